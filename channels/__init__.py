"""Custom Rasa channel connectors (see README "## Channels").

* :mod:`channels.rest`      our REST connector (name ``rest``): bundled bot messages + guard
* :mod:`channels.widget`    the agent widget page and its webhook / history endpoints
* :mod:`channels.telegram`  Telegram: one conversation per (chat, user), groups, buttons
* :mod:`channels.whatsapp`  WhatsApp Cloud API: verification, signatures, numbered options
* :mod:`channels.guard`     input guard used by every connector
* :mod:`channels.output`    one message dict per bot utterance; history from the tracker
* :mod:`channels.splitter`  fits long answers into a channel's limits without cutting a ticket
"""
