"""A tiny random-weight VLM of a real architecture, built offline: the default model and the test fixture.

`make_tiny_model(out, arch)` trains a small byte-level BPE tokenizer on a fixed corpus, builds the
processor (image processor + tokenizer + chat template) and a model of a few hundred thousand
parameters, and saves them as an ordinary HF checkpoint folder. The same seed gives byte-identical
`model.safetensors` and `tokenizer.json`. Untrained, its outputs are gibberish; trained for a few
minutes on a CPU (`vlmbench train-baseline sft`), it answers simple questions from the image.

Why at least 64 image tokens per image (`IMAGE_TOKENS`): with 16 (56 px in 14-px patches) the image
features of different pictures differ by ~0.002 against ~0.014 overall at initialisation; the language
model learns the question prior first and the image collapses into a constant bias, so every trained
tiny model answered blind (visual gain +0.000, docs/training.md). With 64 tokens and a 2-layer, width-64
tower the same training reads colours off the image. Every architecture here gives at least 64:

- LLaVA (CLIP + Llama): 56 px in 7-px patches, 64 tokens (CLIP's CLS token is dropped).
- Qwen2-VL / Qwen2.5-VL: 7-px patches merged 2 x 2, images resized to 64-80 merged tokens
  (`min_pixels` / `max_pixels`; the count follows the aspect ratio: a 480 x 400 scene gives 72).
  Their processors carry a video processor that needs torchvision; they are built image-only here
  (see `vlmbench.models.processors`).
- Idefics3 (SigLIP + Llama): one 56 px image in 7-px patches, no splitting, pixel-shuffle scale 1:
  64 tokens. Its processor is image processor + tokenizer only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vlmbench.errors import VlmbenchError
from vlmbench.models.processors import image_only_processor

ARCHS = ("llava", "qwen2_vl", "qwen2_5_vl", "idefics3")
# Bump when a builder here makes a different checkpoint: the cached default model
# (vlmbench.defaults.tiny_model_path) carries it in its folder name, so caches rebuild.
TINY_VERSION = "3"
IMAGE_TOKENS = 64  # the fewest image tokens any tiny architecture gives one image

_BASE_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
_LLAVA_SPECIAL = [*_BASE_SPECIAL, "<image>"]
_QWEN_SPECIAL = [
    *_BASE_SPECIAL,
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
_IDEFICS3_SPECIAL = [
    *_BASE_SPECIAL,
    "<fake_token_around_image>",
    "<image>",
    "<global-img>",
    "<end_of_utterance>",
]
_LLAVA_IMAGE = "<image>"
_QWEN_IMAGE = "<|vision_start|><|image_pad|><|vision_end|>"


def chat_template(image_markup: str) -> str:
    """A ChatML template; string or list content, images rendered as `image_markup`."""
    return (
        "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
        "{% if message['content'] is string %}{{ message['content'] }}"
        "{% else %}{% for part in message['content'] %}"
        "{% if part['type'] == 'image' %}" + image_markup + ""
        "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
        "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )


_CORPUS = [
    "What color is the shape in the image? Answer with one word.",
    "<think> The shape looks red . </think> <answer> red </answer>",
    "red green blue yellow orange purple black white gray brown",
    "circle square triangle rectangle star hexagon",
    "0 1 2 3 4 5 6 7 8 9 10 12 25 50 100 3.5 -2 %",
    "A B C D E (A) (B) (C) (D) (E) A. B. C. D. E.",
    "yes no Yes No True False",
    "Answer: A Answer: yes Answer: 42 The answer is",
    "Question: Which of the following options is correct? Options: Think step by step.",
    "How many bars are in the chart? What is the value of the largest bar in the chart?",
]


def _tokenizer(special: list[str], image_markup: str) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=512,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS * 50, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=special[1:],
        chat_template=chat_template(image_markup),
        model_max_length=2048,
    )


# The ViT-style vision towers (CLIP for LLaVA, SigLIP for Idefics3) share one tiny shape: 2 layers of
# width 64 (head_dim 32), 56 px in 7-px patches = 64 patches.
_TINY_VISION = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2)
_VIT_IMAGE, _VIT_PATCH = 56, 7


def _text_config(ids: dict[str, int], vocab: int) -> dict[str, Any]:
    return dict(
        vocab_size=vocab,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        # head_dim 32: vLLM's CPU attention supports head sizes 32, 64, 80, ... (not 16)
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=2048,
        bos_token_id=ids["<|im_start|>"],
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
    )


def _build_llava(tok: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    from transformers import (
        CLIPImageProcessorPil,
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    img, patch = _VIT_IMAGE, _VIT_PATCH  # (56 // 7) ** 2 = 64 image tokens per image
    # Squashed to 56 x 56, not cropped: CLIP's resize-then-centre-crop cuts the outer twelfth of a
    # 480 x 400 scene on each side, which cuts an object in 70% of synth_scene items (8% lose its centre).
    image_processor = CLIPImageProcessorPil(
        size={"height": img, "width": img}, do_center_crop=False, crop_size={"height": img, "width": img}
    )
    processor = LlavaProcessor(
        image_processor=image_processor,
        tokenizer=tok,
        patch_size=patch,
        vision_feature_select_strategy="default",
        chat_template=tok.chat_template,
        image_token=_LLAVA_IMAGE,
        num_additional_image_tokens=1,  # CLIP's CLS token
    )
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(**_TINY_VISION, image_size=img, patch_size=patch, projection_dim=64),
        text_config=LlamaConfig(**_text_config(ids, len(tok))),
        image_token_index=ids[_LLAVA_IMAGE],
        image_seq_length=(img // patch) ** 2,
        vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    return LlavaForConditionalGeneration(config), processor


def _build_qwen(tok: Any, ids: dict[str, int], arch: str) -> tuple[Any, Any]:
    from transformers import Qwen2VLImageProcessorPil

    patch, merge = 7, 2
    unit = (patch * merge) ** 2  # pixels per merged visual token
    image_processor = Qwen2VLImageProcessorPil(
        min_pixels=unit * IMAGE_TOKENS,
        max_pixels=unit * (IMAGE_TOKENS + IMAGE_TOKENS // 4),  # 64..80 visual tokens per image
        patch_size=patch,
        temporal_patch_size=2,
        merge_size=merge,
    )
    text = _text_config(ids, len(tok))
    # the M-RoPE sections sum to head_dim / 2
    text["rope_parameters"] = {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [4, 6, 6]}
    common = dict(
        text_config=text,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    if arch == "qwen2_vl":
        from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLProcessor

        vision = dict(
            depth=2,
            embed_dim=64,
            hidden_size=64,
            num_heads=2,
            mlp_ratio=2,
            patch_size=patch,
            spatial_merge_size=merge,
            temporal_patch_size=2,
            in_channels=3,
        )
        model = Qwen2VLForConditionalGeneration(Qwen2VLConfig(vision_config=vision, **common))
        base: type = Qwen2VLProcessor
    else:
        from transformers import (
            Qwen2_5_VLConfig,
            Qwen2_5_VLForConditionalGeneration,
            Qwen2_5_VLProcessor,
        )

        vision = dict(
            depth=2,
            hidden_size=64,
            intermediate_size=128,
            num_heads=2,
            out_hidden_size=64,
            patch_size=patch,
            spatial_merge_size=merge,
            temporal_patch_size=2,
            window_size=56,  # 4 x 4 merged tokens per attention window
            fullatt_block_indexes=[1],
        )
        model = Qwen2_5_VLForConditionalGeneration(Qwen2_5_VLConfig(vision_config=vision, **common))
        base = Qwen2_5_VLProcessor
    processor = image_only_processor(base)(
        image_processor=image_processor, tokenizer=tok, chat_template=tok.chat_template
    )
    return model, processor


def _build_idefics3(tok: Any, ids: dict[str, int]) -> tuple[Any, Any]:
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3ImageProcessorPil,
        Idefics3Processor,
    )

    # one 56 px image, no splitting, no pixel shuffle: (56 // 7) ** 2 / 1 ** 2 = 64 image tokens
    img, patch, scale = _VIT_IMAGE, _VIT_PATCH, 1
    image_processor = Idefics3ImageProcessorPil(
        size={"longest_edge": img},
        max_image_size={"longest_edge": img},
        do_image_splitting=False,
    )
    processor = Idefics3Processor(
        image_processor=image_processor,
        tokenizer=tok,
        image_seq_len=(img // patch) ** 2 // scale**2,
        chat_template=tok.chat_template,
    )
    text = _text_config(ids, len(tok))
    config = Idefics3Config(
        vision_config=dict(**_TINY_VISION, image_size=img, patch_size=patch),
        text_config=dict(model_type="llama", **text),
        image_token_id=ids["<image>"],
        scale_factor=scale,
        pad_token_id=text["pad_token_id"],
    )
    return Idefics3ForConditionalGeneration(config), processor


def make_tiny_model(out: Path | str, arch: str = "llava", seed: int = 0) -> Path:
    """Build and save a tiny random-weight `arch` model with its tokenizer and processor in `out`."""
    if arch not in ARCHS:
        raise VlmbenchError(f"unknown tiny-model architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    try:
        import torch
    except ImportError as err:
        raise VlmbenchError(
            "make-tiny-model needs torch and transformers: pip install 'vlmbench[hf]'"
        ) from err

    out = Path(out)
    special = {"llava": _LLAVA_SPECIAL, "idefics3": _IDEFICS3_SPECIAL}.get(arch, _QWEN_SPECIAL)
    markup = _QWEN_IMAGE if arch.startswith("qwen") else _LLAVA_IMAGE
    tok = _tokenizer(special, markup)
    ids = {t: tok.convert_tokens_to_ids(t) for t in special}
    torch.manual_seed(seed)
    if arch == "llava":
        model, processor = _build_llava(tok, ids)
    elif arch == "idefics3":
        model, processor = _build_idefics3(tok, ids)
    else:
        model, processor = _build_qwen(tok, ids, arch)
    model.eval()
    gen = model.generation_config
    gen.bos_token_id = ids["<|im_start|>"]
    gen.eos_token_id = ids["<|im_end|>"]
    gen.pad_token_id = ids["<|endoftext|>"]
    gen.do_sample = False
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    if arch == "llava":
        _rename_llava_vision_keys(out / "model.safetensors")
    return out


def _rename_llava_vision_keys(path: Path) -> None:
    """Save the CLIP tower under `vision_tower.vision_model.*`, the layout of published LLaVA checkpoints:
    vLLM only loads that one, and transformers maps it back to identical weights, so one folder
    serves every backend."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
        tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 - not a mapping
    renamed = {}
    for key, tensor in tensors.items():
        head, sep, rest = key.partition("vision_tower.")
        if sep and not rest.startswith("vision_model."):
            key = f"{head}vision_tower.vision_model.{rest}"
        renamed[key] = tensor
    save_file(renamed, str(path), metadata=metadata)


def parameter_count(path: Path | str) -> int:
    """Number of parameters stored in a checkpoint folder's safetensors files."""
    from vlmbench.records.provenance import parameter_count as count

    n = count(str(path))
    if n is None:
        raise VlmbenchError(f"{path}: no readable *.safetensors files")
    return n
