"""The kit's vocabulary: the model, errors, the clock, the working calendar, the codec, and how
many SMS a text takes (sms_text).

Everything here is pure and shared by every part of the process; nothing here imports a part.
"""
