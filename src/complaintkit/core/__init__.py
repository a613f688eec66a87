"""The kit's vocabulary: the model, errors, the clock, the working calendar and the codec.

Everything here is pure and shared by every part of the process; nothing here imports a part.
"""
