"""Hub dataset schemas as their cards state them, shared by the hub loader's tests."""

from __future__ import annotations

from datasets import Features, List, Value
from datasets import Image as ImageFeature

# The AI4Math/MathVista card: pid, question, image (path string), decoded_image (image), choices (sequence
# of strings, null for free-form), unit, precision (float64), answer, question_type, answer_type,
# metadata (struct), query.
MATHVISTA_FEATURES = Features(
    {
        "pid": Value("string"),
        "question": Value("string"),
        "image": Value("string"),
        "decoded_image": ImageFeature(),
        "choices": List(Value("string")),
        "unit": Value("string"),
        "precision": Value("float64"),
        "answer": Value("string"),
        "question_type": Value("string"),
        "answer_type": Value("string"),
        "metadata": {
            "category": Value("string"),
            "context": Value("string"),
            "grade": Value("string"),
            "img_height": Value("int64"),
            "img_width": Value("int64"),
            "language": Value("string"),
            "skills": List(Value("string")),
            "source": Value("string"),
            "split": Value("string"),
            "task": Value("string"),
        },
        "query": Value("string"),
    }
)


# The ScienceQA card (lmms-lab / lmms-lab-encoder, config ScienceQA-IMG): image (image), question, choices
# (sequence of strings), answer (int8 index), hint, task, grade, subject, topic, category, skill, lecture,
# solution (strings).
SCIENCEQA_FEATURES = Features(
    {
        "image": ImageFeature(),
        "question": Value("string"),
        "choices": List(Value("string")),
        "answer": Value("int8"),
        **{
            name: Value("string")
            for name in (
                "hint",
                "task",
                "grade",
                "subject",
                "topic",
                "category",
                "skill",
                "lecture",
                "solution",
            )
        },
    }
)


# The GQA card (lmms-lab-encoder/GQA): config testdev_balanced_instructions holds the questions (`groups`
# and `types` as structs; some uploads keep annotations as JSON strings), testdev_balanced_images the
# pictures by image id.
GQA_QUESTIONS = Features(
    {
        "id": Value("string"),
        "imageId": Value("string"),
        "question": Value("string"),
        "answer": Value("string"),
        "fullAnswer": Value("string"),
        "isBalanced": Value("bool"),
        "groups": {"global": Value("string"), "local": Value("string")},
        "entailed": Value("string"),
        "equivalent": Value("string"),
        "types": {"detailed": Value("string"), "semantic": Value("string"), "structural": Value("string")},
        "annotations": Value("string"),
        "semantic": Value("string"),
        "semanticStr": Value("string"),
    }
)
GQA_IMAGES = Features({"id": Value("string"), "image": ImageFeature()})
