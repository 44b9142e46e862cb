"""triage: size a leaked dataset in one streaming pass, without making a second leak."""

__version__ = "0.1.0"
