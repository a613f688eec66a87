"""follow_up"""
