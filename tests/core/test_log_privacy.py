import logging

from bot.core.log_privacy import install_pii_masking


def test_installed_filter_masks_ids_and_phones_in_any_logger(caplog):
    handler = logging.StreamHandler()
    records = []
    handler.emit = records.append  # keep what reaches the sink
    logger = logging.getLogger("some.library")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        assert install_pii_masking() >= 1
        install_pii_masking()  # idempotent
        assert sum(type(f).__name__ == "PiiMaskingFilter" for f in handler.filters) == 1
        logger.info("user %s sent %s", "13812345678", "身份证370202199001011234")
        message = records[-1].getMessage()
        assert "13812345678" not in message and "370202199001011234" not in message
        assert "138****5678" in message
    finally:
        logger.removeHandler(handler)
