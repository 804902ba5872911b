"""The class names of the public dermoscopy data sets, and which of them can name one lesion.

Data sets name the same diagnosis differently: HAM10000 writes ``mel`` where the
ISIC folders write ``melanoma``, and some names are broader than others
(HAM10000's ``bkl`` holds seborrheic keratoses, solar lentigines and
lichen-planus-like keratoses; its ``akiec`` holds actinic keratoses and
intraepithelial carcinoma, an early squamous cell carcinoma). Each known name
stands here for the set of specific diagnoses it can mean; two names from
different data sets agree when their sets meet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["agree", "diagnoses", "normalise"]

# specific diagnosis -> the names that mean exactly it
_SPECIFIC: dict[str, tuple[str, ...]] = {
    "mel": ("mel", "melanoma", "malignant melanoma"),
    "nv": (
        "nv",
        "nevus",
        "nevi",
        "naevus",
        "naevi",
        "melanocytic nevus",
        "melanocytic nevi",
        "melanocytic naevus",
        "melanocytic naevi",
    ),
    "bcc": ("bcc", "basal cell carcinoma"),
    "ak": ("ak", "actinic keratosis", "actinic keratoses", "solar keratosis"),
    "scc": (
        "scc",
        "squamous cell carcinoma",
        "intraepithelial carcinoma",
        "bowen's disease",
        "bowen disease",
    ),
    "sk": ("sk", "seborrheic keratosis", "seborrhoeic keratosis", "seborrheic keratoses"),
    "sl": ("solar lentigo", "solar lentigines"),
    "lplk": ("lplk", "lichen planus like keratosis", "lichenoid keratosis"),
    "df": ("df", "dermatofibroma"),
    "vasc": ("vasc", "vascular lesion", "vascular lesions"),
}
# broad names -> the specific diagnoses they hold
_BROAD: dict[tuple[str, ...], frozenset[str]] = {
    ("akiec", "actinic keratoses and intraepithelial carcinoma"): frozenset({"ak", "scc"}),
    (
        "bkl",
        "benign keratosis",
        "benign keratosis like lesion",
        "benign keratosis like lesions",
        "pigmented benign keratosis",
    ): frozenset({"sk", "sl", "lplk"}),
}

_TABLE: dict[str, frozenset[str]] = {
    name: frozenset({code}) for code, names in _SPECIFIC.items() for name in names
}
_TABLE.update({name: codes for names, codes in _BROAD.items() for name in names})


def normalise(label: object) -> str:
    """Lower case, ``_`` and ``-`` as spaces, single spaces: ``"Seborrheic_Keratosis"`` ->
    ``"seborrheic keratosis"``."""
    return " ".join(str(label).lower().replace("_", " ").replace("-", " ").split())


def diagnoses(label: object) -> frozenset[str] | None:
    """The specific diagnoses a class name can mean, or ``None`` for a name not in the table."""
    return _TABLE.get(normalise(label))


def agree(
    a: str,
    b: str,
    classes_a: Iterable[str] = (),
    classes_b: Iterable[str] = (),
    label_map: Mapping[str, str] | None = None,
) -> bool:
    """Whether label ``a`` (from a set with ``classes_a``) and ``b`` can name one image.

    Equal names agree. When one set also uses the other's name for a class,
    the two sets share that vocabulary and differing names disagree. Otherwise
    the table decides; names it does not know agree only when equal (after
    ``label_map`` and :func:`normalise`).
    """
    if label_map:
        a, b = label_map.get(a, a), label_map.get(b, b)
        classes_a = [label_map.get(c, c) for c in classes_a]
        classes_b = [label_map.get(c, c) for c in classes_b]
    na, nb = normalise(a), normalise(b)
    if na == nb:
        return True
    if na in {normalise(c) for c in classes_b} or nb in {normalise(c) for c in classes_a}:
        return False
    da, db = _TABLE.get(na), _TABLE.get(nb)
    return da is not None and db is not None and bool(da & db)
