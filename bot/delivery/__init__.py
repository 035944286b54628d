"""What talks to Slack on the bot's own initiative: scheduled DMs, the weekly summary, the Home
tab. Above the domain: it asks the services, renders with bot.views and posts."""
