"""Gateways between users and Rasa: Telegram, WeChat, and the one Rasa client they share."""
