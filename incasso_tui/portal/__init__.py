"""The client's self-service web page (issue 21): ``incasso serve portal``; see ``portal.app`` and
``services.portal``."""
