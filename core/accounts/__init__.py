"""Accounts, roles and the permission check every view goes through."""
