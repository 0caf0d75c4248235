"""The spatial-temporal generator's paper experiments; importing this package registers them (abp_video/registry.py)."""

from st_generator.experiments import interpolate, multimodal, recover, synthesis  # noqa: F401
