"""Notification senders and the destination check.

``smtp.SmtpSender`` (mail over SMTP: implicit TLS or STARTTLS, login, the
snapshot attached or linked), ``webhook.WebhookSender`` (signed JSON
``POST``), ``mqtt.MqttSender`` (MQTT publish) each implement the ``Sender``
port for one channel kind; ``destinations.DestinationPolicy`` decides which
hosts they may reach. Import the module you need: each pulls in its own client
library.
"""
