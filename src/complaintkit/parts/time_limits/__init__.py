"""time_limits"""
