"""荣军助手's action server: thin rasa_sdk actions over the service in ``bot.core``.

The action server imports this package after configuring logging, so masking is installed here.
"""

from bot.core.log_privacy import install_pii_masking

install_pii_masking()
