"""The one compiled part: the JSON position scanner (apps/designs/engine/_jsonpos.c).

Everything else is declared in pyproject.toml; setuptools reads both. It links nothing but
Python."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "apps.designs.engine._jsonpos",
            ["apps/designs/engine/_jsonpos.c"],
            depends=["apps/designs/engine/_jsonpos_scan.h"],
        )
    ]
)
