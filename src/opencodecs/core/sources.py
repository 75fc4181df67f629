"""placeholder during bring-up"""
