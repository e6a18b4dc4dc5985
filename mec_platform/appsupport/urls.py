"""The one place resource URIs of the Application Support API are built (links, Location)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

# MEC 011 v3.x serves Application Support as API version 2; links always use it.
APP_SUPPORT_BASE = "/mec_app_support/v2"


def _seg(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True)
class AppSupportUrls:
    """Absolute URIs under the platform's API root."""

    api_root: str
    base_path: str = APP_SUPPORT_BASE

    @property
    def root(self) -> str:
        """The Application Support API root, e.g. http://host:8080/mec_app_support/v2."""
        return f"{self.api_root.rstrip('/')}{self.base_path}"

    def registration(self, app_instance_id: str) -> str:
        """The registration (AppInfo) of an application instance."""
        return f"{self.root}/registrations/{_seg(app_instance_id)}"

    def application(self, app_instance_id: str) -> str:
        """The per-application root that rules, subscriptions and confirmations hang off."""
        return f"{self.root}/applications/{_seg(app_instance_id)}"

    def subscriptions(self, app_instance_id: str) -> str:
        """The termination subscription collection of an application instance."""
        return f"{self.application(app_instance_id)}/subscriptions"

    def subscription(self, app_instance_id: str, subscription_id: str) -> str:
        """One termination subscription."""
        return f"{self.subscriptions(app_instance_id)}/{_seg(subscription_id)}"

    def confirm_termination(self, app_instance_id: str) -> str:
        """Where the application confirms a stop or termination."""
        return f"{self.application(app_instance_id)}/confirm_termination"

    def dns_rule(self, app_instance_id: str, dns_rule_id: str) -> str:
        """One DNS rule of an application."""
        return f"{self.application(app_instance_id)}/dns_rules/{_seg(dns_rule_id)}"

    def traffic_rule(self, app_instance_id: str, traffic_rule_id: str) -> str:
        """One traffic rule of an application."""
        return f"{self.application(app_instance_id)}/traffic_rules/{_seg(traffic_rule_id)}"
