"""Custom Rasa NLU components of the telco agent-assist bot.

`IndonesianTokenizer` tokenises with spaCy's blank Indonesian tokenizer and puts a
normalised form of every token (slang, abbreviations, number units) in `Token.lemma`,
which the CountVectorsFeaturizers read. Token text and offsets stay untouched so that
entity offsets refer to the original message.
"""
