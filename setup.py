"""The one compiled part: the JSON position scanner (apps/designs/engine/_jsonpos.c).

Everything else is declared in pyproject.toml; setuptools reads both."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "apps.designs.engine._jsonpos",
            ["apps/designs/engine/_jsonpos.c"],
            depends=[
                "apps/designs/engine/_jsonpos_scan.h",
                "apps/designs/engine/_jsonpos_openapi.h",
                "apps/designs/engine/_jsonpos_security.h",
            ],
            libraries=["crypto"],  # OpenSSL's SHA-256 for fingerprints (Debian: libssl-dev)
        )
    ]
)
