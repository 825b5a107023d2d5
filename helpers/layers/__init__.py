"""Layer analysis: dive's figures and the true waste, CI rules, plots and widgets."""

from __future__ import annotations

from helpers._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "CIResult": "ci_rules",
    "CIRuleResult": "ci_rules",
    "CI_DEFAULTS": "ci_rules",
    "DiveFigures": "filetree",
    "LESSON_DOCKERFILES": "lesson",
    "LayerAnalysis": "analysis",
    "LayerInfo": "analysis",
    "LayerTree": "filetree",
    "Node": "filetree",
    "OPAQUE": "filetree",
    "WHITEOUT": "filetree",
    "WastedFile": "filetree",
    "analyze_archive": "analysis",
    "analyze_layers": "analysis",
    "build_lesson_image": "lesson",
    "demo_archive_path": "lesson",
    "dive_efficiency": "filetree",
    "dive_json": "dive",
    "evaluate_ci": "ci_rules",
    "find_dive": "dive",
    "layer_explorer": "widgets",
    "lesson_sources": "lesson",
    "load_ci_config": "ci_rules",
    "looks_like_archive": "analysis",
    "parse_bytes": "ci_rules",
    "plot_dive_vs_true": "plots",
    "plot_layer_stack": "plots",
    "plot_top_dirs": "plots",
    "plot_wasted_paths": "plots",
    "true_waste": "filetree",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
