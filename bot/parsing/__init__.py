"""Slack-free reading of what people type: words, numbers, mentions, times, money and dates."""
