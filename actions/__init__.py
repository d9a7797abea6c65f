"""荣军助手's action server: thin rasa_sdk actions over the capabilities in ``actions.capabilities``.

The action server imports this package after configuring logging, so masking is installed here.
"""
from actions.capabilities.log_privacy import install_pii_masking

install_pii_masking()
