"""The order of the gallery: a reader's path through the library, not the alphabet."""

from __future__ import annotations

ORDER = [
    "plot_quickstart.py",
    "plot_predict_from_files.py",
    "plot_clinical_report.py",
    "plot_auditing_a_model.py",
    "plot_rebalancing_augmentation.py",
    "plot_grid_search.py",
    "plot_grouped_split.py",
]


class ExampleOrder:
    """Sort key for sphinx-gallery's ``within_subsection_order``."""

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        rank = ORDER.index(filename) if filename in ORDER else len(ORDER)
        return (rank, filename)

    def __repr__(self) -> str:  # stable, so Sphinx does not rebuild on every run
        return "ExampleOrder"
