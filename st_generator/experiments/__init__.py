"""The spatial-temporal generator's paper experiments; importing this package registers them (common/registry.py)."""

from st_generator.experiments import interpolate, multimodal, recover, synthesis  # noqa: F401
