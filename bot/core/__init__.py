"""Capabilities of 荣军助手 as plain Python: no Rasa import.

Rasa actions, the Telegram gateway and the agent console are thin doors into these modules.
"""
