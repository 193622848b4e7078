"""Rasa action server package: thin actions that gather facts, call the SOP engine, format."""
