"""A model card: what a fitted classifier is, what it was trained and tested on, and how well.

:class:`ModelCard` gathers what the fit, the data audit and the clinical report
already know, under the headings of the CLEAR Derm reporting checklist
(Daneshjou et al., JAMA Dermatology 2021) that apply to a trained model: the
data, the model and its training, the evaluation (every figure with its
interval, the subgroup and referral tables) and the intended use and its
limitations. Nothing in it is typed by hand that those objects know; what none
of them records (such as the patients' skin types) is said to be absent.
"""

from __future__ import annotations

import html
import os
import platform
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ModelCard"]

#: What the card says of every model, whatever its intended use.
LIMITATIONS = (
    "A research tool, not a medical device: it is not approved for diagnosis, and a "
    "clinician must not rely on it for a decision about a patient.",
    "The figures hold for test images like these only; other cameras, clinics, "
    "populations and skin types can change them, and PPV and NPV change with the "
    "prevalence.",
)

_PARAMS = ("image_size", "backbone", "filters", "convs_per_block", "dense_units", "dropout",
           "optimizer", "learning_rate", "batch_size", "epochs", "class_weight", "augment",
           "init", "fine_tune", "random_state")  # fmt: skip
_SKIN_TYPE = ("fitzpatrick", "skin_type", "skin type", "skintype")


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for name in ("skinlesion", "keras", "tensorflow", "scikit-learn", "numpy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


@dataclass
class ModelCard:
    """A model card of a fitted classifier: data, training, evaluation, intended use.

    Made by :meth:`from_estimator`; each attribute is a list of ``(heading,
    lines, tables)`` sections, and :meth:`to_markdown` / :meth:`to_html` write
    them.

    Attributes
    ----------
    title : str
    sections : list of (str, list of str, list of tables)
        A table is ``(title, header, rows)`` of text cells.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skinlesion import ModelCard
    >>> from skinlesion.metrics import clinical_report
    >>> X = np.arange(40.0)[:, None]
    >>> y = np.where(X[:, 0] > 19, "melanoma", "nevus")
    >>> clf = LogisticRegression().fit(X, y)
    >>> report = clinical_report.from_estimator(clf, X, y, positive="melanoma",
    ...                                         n_bootstraps=20, random_state=0)
    >>> card = ModelCard.from_estimator(clf, report, intended_use="Teaching.")
    >>> "not a medical device" in card.to_markdown()
    True
    """

    title: str
    sections: list = field(default_factory=list)

    @classmethod
    def from_estimator(
        cls,
        estimator: Any,
        report: Any,
        audit: Any = None,
        *,
        intended_use: str | None = None,
        title: str | None = None,
    ) -> ModelCard:
        """The card of a fitted classifier, from its clinical report and data audit.

        Parameters
        ----------
        estimator : LesionClassifier or any fitted classifier
            Its parameters, classes, epochs and validation split are read.
        report : ClinicalReport or dict
            The evaluation on the test set (``clinical_report.from_estimator``), or
            its :meth:`~skinlesion.metrics.ClinicalReport.to_dict` (the JSON of
            ``skinlesion evaluate --json``).
        audit : AuditReport or dict, default=None
            :func:`skinlesion.datasets.audit` of the training (and test) data, or
            its ``to_dict()`` (the JSON of ``skinlesion audit --json``): the
            counts per class and what it found. None: the card says none was run.
        intended_use : str, default=None
            Who should use the model, for what; the card always adds that it is a
            research tool, not a medical device.
        title : str, default=None
            None: "Model card: <estimator class> (<classes>)".

        Returns
        -------
        ModelCard
        """
        if isinstance(report, dict):
            from skinlesion.metrics import ClinicalReport

            report = ClinicalReport.from_dict(report)
        classes = [str(c) for c in getattr(estimator, "classes_", report.classes)]
        name = type(estimator).__name__
        card = cls(title or f"Model card: {name} ({', '.join(classes)})")
        card.sections.append(_data_section(audit, report, estimator))
        card.sections.append(_model_section(estimator, name, classes))
        card.sections.append(_evaluation_section(report))
        lines = [intended_use] if intended_use else ["Not stated."]
        card.sections.append(("Intended use", lines, []))
        card.sections.append(("Limitations", list(LIMITATIONS), []))
        return card

    def to_markdown(self) -> str:
        """The card as Markdown: headings, lists and pipe tables."""
        out = [f"# {self.title}"]
        for heading, lines, tables in self.sections:
            out.append(f"## {heading}")
            if lines:
                out.append("\n".join(f"- {line}" for line in lines))
            for title, header, rows in tables:
                table = [f"**{title}**", "", "| " + " | ".join(header) + " |"]
                table.append("|" + "|".join("---" for _ in header) + "|")
                table += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
                out.append("\n".join(table))
        return "\n\n".join(out) + "\n"

    def to_html(self) -> str:
        """The card as one self-contained HTML page."""
        from skinlesion.metrics.render.html import _CSS, _table

        esc = html.escape
        parts = [
            "<!DOCTYPE html>",
            f'<html lang="en"><head><meta charset="utf-8"><title>{esc(self.title)}</title>',
            f"<style>{_CSS}</style></head><body><h1>{esc(self.title)}</h1>",
        ]
        for heading, lines, tables in self.sections:
            parts.append(f"<h2>{esc(heading)}</h2>")
            if lines:
                parts.append("<ul>" + "".join(f"<li>{esc(x)}</li>" for x in lines) + "</ul>")
            for title, header, rows in tables:
                parts.append(f"<h3>{esc(title)}</h3>" + _table(header, rows))
        parts.append("</body></html>")
        return "\n".join(parts)

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        """Write the card: HTML for a ``.html`` or ``.htm`` file, Markdown otherwise."""
        path = os.fspath(path)
        if os.path.exists(path) and not overwrite:
            raise FileExistsError(f"{path!r} exists; pass overwrite=True to replace it.")
        text = self.to_html() if path.lower().endswith((".html", ".htm")) else self.to_markdown()
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)


def _data_section(audit: Any, report: Any, estimator: Any) -> tuple[str, list[str], list]:
    lines, tables = [], []
    trained = getattr(estimator, "class_counts_", None)
    if trained is not None:  # recorded by the fit: the early-stopping split is left out
        rows = [[str(c), str(n)] for c, n in trained.items()]
        rows.append(["total", str(sum(trained.values()))])
        title = "Images per class the network trained on (early-stopping split excluded)"
        tables.append((title, ["class", "images"], rows))
    if audit is None:
        missing = "duplicates and leakage" if trained is not None else (
            "counts per class, duplicates and leakage")  # fmt: skip
        lines.append(f"No data audit was given: the training data's {missing} "
                     "are not recorded here.")  # fmt: skip
    else:
        from_dict = isinstance(audit, dict)
        counts = audit["class_counts"] if from_dict else audit.class_counts
        splits = list(counts)
        names = sorted({c for split in counts.values() for c in split})
        rows = [[c, *[str(counts[s].get(c, 0)) for s in splits]] for c in names]
        rows.append(["total", *[str(sum(counts[s].values())) for s in splits]])
        tables.append(("Images per class (from the data audit)", ["class", *splits], rows))
        summary = _audit_summary(audit) if from_dict else audit.summary().splitlines()
        lines += [line.strip() for line in summary if line.strip()]
    lines.append(f"Test set of the evaluation: {report.settings['n_samples']} images.")
    columns = [c.lower() for c in (report.subgroups or {})]
    if any(any(k in c for k in _SKIN_TYPE) for c in columns):
        lines.append("Skin type: see the subgroup tables of the evaluation.")
    else:
        lines.append("Skin type (Fitzpatrick) of the patients: not recorded, so performance "
                     "on darker skin is unknown.")  # fmt: skip
    return "Data", lines, tables


def _model_section(estimator: Any, name: str, classes: list[str]) -> tuple[str, list[str], list]:
    lines = [f"Estimator: {name}; classes: {', '.join(classes)}."]
    params = estimator.get_params(deep=False) if hasattr(estimator, "get_params") else {}
    ours = "filters" in params  # a LesionClassifier: its main parameters; any other: all
    shown = [(k, params[k]) for k in _PARAMS if k in params] if ours else sorted(params.items())
    rows = [[k, repr(v)] for k, v in shown]
    for attr, text in (("n_epochs_", "epochs trained"), ("best_epoch_", "best epoch (kept)")):
        if hasattr(estimator, attr):
            lines.append(f"{text}: {getattr(estimator, attr)}")
    if getattr(estimator, "fit_time_", None) is not None:
        lines.append(f"fit time: {_duration(estimator.fit_time_)}")
    elif ours:
        lines.append("fit time: not recorded (a model file saved by an earlier skinlesion)")
    if getattr(estimator, "validation_indices_", None) is not None:
        lines.append(f"images held out for early stopping: {len(estimator.validation_indices_)}")
    history = getattr(estimator, "history_", None)
    if isinstance(history, dict) and history.get("val_loss"):
        lines.append(f"last validation loss: {history['val_loss'][-1]:.4f}")
    lines.append("Versions when the card was written: "
                 + ", ".join(f"{k} {v}" for k, v in _versions().items()) + ".")  # fmt: skip
    return "Model and training", lines, [("Parameters", ["parameter", "value"], rows)]


def _audit_summary(audit: dict) -> list[str]:
    """What an audit's ``to_dict`` says it found, as lines (its ``summary`` in short)."""
    lines = [
        f"Audit of {audit['n_images']} images",
        f"class imbalance (largest / smallest class): {audit['imbalance_ratio']:.1f}",
    ]
    for kind, found in audit["duplicates"].items():
        for key, what in (
            ("train_test_leaks", "group(s) across splits (train/test leakage)"),
            ("conflicting_labels", "group(s) with conflicting labels"),
            ("within_class", "group(s) within one class (redundant copies)"),
        ):
            if found.get(key):
                lines.append(f"{found[key]} {kind} duplicate {what}")
    for key, what in (("unreadable", "unreadable"), ("tiny", "too small"),
                      ("grayscale", "grayscale")):  # fmt: skip
        if audit.get(key):
            lines.append(f"{len(audit[key])} image(s) {what}")
    if len(lines) == 2:
        lines.append("no duplicates, leakage or unreadable images found")
    return lines


def _duration(seconds: float) -> str:
    """``seconds`` as "42.0 s", "12 min 5 s" or "3 h 20 min"."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs} s"
    return f"{minutes // 60} h {minutes % 60} min"


def _evaluation_section(report: Any) -> tuple[str, list[str], list]:
    from skinlesion.metrics.render._layout import intro, tables

    return "Evaluation", intro(report), tables(report)
