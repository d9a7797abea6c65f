"""Custom Rasa NLU components. Rasa imports this package when it loads the model, after its
logging is configured: a good moment to keep ID and phone numbers out of the server's logs."""

from bot.core.log_privacy import install_pii_masking

install_pii_masking()
