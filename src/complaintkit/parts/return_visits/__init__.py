"""return_visits"""
