"""Rank store and live boards; knows board names and members, not rounds or teams."""
