"""cosim: how fast, and at what energy, does an ML workload run on a piece of hardware, and how should it be mapped?

The public API (``cosim.api``: ``simulate``, ``load_hardware``, ``describe_hardware``, ``sweep``, ``serve``,
``reproduction_table`` …) is imported on first use so that ``import cosim`` and ``cosim --help`` stay fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

_API = ("INPUT_ERRORS", "Hardware", "HardwareDescription", "Result", "Routing", "ServingEstimate", "Workload",
        "WorkloadDescription", "available_hardware", "available_workloads", "best_mappings", "describe",
        "describe_hardware", "describe_workload", "import_onnx", "load_hardware", "load_workload", "mapping_report",
        "parameter_space", "pareto_front", "reproduction_cells", "reproduction_output", "reproduction_table",
        "save_trace", "serve", "simulate", "sweep", "workload_parameters", "write_reproduction_table")
# calibration: datasets
_API += ("validation_datasets", "validate_dataset", "dataset_figures_cells", "write_dataset_figures")
_API += ("fit_calibration", "read_calibration", "write_calibration", "validate_calibration")  # calibration: fit
_API += ("serve_study", "load_serving_config", "ServingConfig", "StudyResult", "generate_requests",  # serving
         "predictor_for", "simulate_system", "capacity_search")
_API += ("measure_board", "read_measurements", "measured_workload", "measurement_rates",  # calibration: measurement
         "convert_board_csv")
_API += ("parse_config", "check_config", "count_points", "config_yaml", "read_results",  # configs and points
         "point_inputs", "load_point", "point_config", "explorer_script", "workload_ops",
         "serving_datasets", "mappable_ops")
__all__ = list(_API)


def __getattr__(name: str):
    if name in _API:
        from cosim import api

        return getattr(api, name)
    raise AttributeError(f"module 'cosim' has no attribute {name!r}")
