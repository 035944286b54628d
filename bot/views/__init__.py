"""Block Kit views, built with slack_sdk.models: the only place that knows Slack's layout."""
