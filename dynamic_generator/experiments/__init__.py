"""The dynamic generator's paper experiments; importing this package registers them (abp_video/registry.py)."""

from dynamic_generator.experiments import action, animate, recover, texture, texture_eval  # noqa: F401
