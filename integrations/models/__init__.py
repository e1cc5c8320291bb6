"""Tagscope's stored state: credentials, the mirror of HighLevel data, runs, calls and deliveries.

One module per concern; everything is re-exported here so `from integrations.models import X` works.
"""

from integrations.models.alerts import Alert, AlertRule, NotificationPreference
from integrations.models.apicalls import ApiCall
from integrations.models.audit import AuditEntry
from integrations.models.connections import Connection, Location
from integrations.models.delivery import Delivery, DeliveryAttempt, DeliveryCursor, Destination, DestinationMapping
from integrations.models.events import Event
from integrations.models.goals import AnomalyCheck, AnomalyMute, AnomalyThreshold, Goal
from integrations.models.health import WorkerHeartbeat
from integrations.models.installs import PendingInstall
from integrations.models.mirror import (
    Demographics,
    Post,
    PostInsightSnapshot,
    SocialAccount,
    StatisticsPoint,
    Tag,
    TagDetail,
    TagPost,
)
from integrations.models.ratelimit import RateLimitDay, RateLimitSlot
from integrations.models.retention import ApiCallDay, PruneRun
from integrations.models.rollups import AgencyDay, AgencyDayChange, LocationMonth
from integrations.models.sync import SyncLease, SyncRun
from integrations.models.webhooks import InboundWebhook

__all__ = [
    "AgencyDay", "AgencyDayChange", "Alert", "AlertRule", "AnomalyCheck", "AnomalyMute", "AnomalyThreshold",
    "ApiCall", "ApiCallDay",
    "AuditEntry",
    "Connection",
    "Delivery", "DeliveryAttempt", "DeliveryCursor", "Demographics", "Destination", "DestinationMapping", "Event",
    "Goal", "InboundWebhook", "Location", "LocationMonth", "NotificationPreference", "PendingInstall", "Post",
    "PostInsightSnapshot",
    "PruneRun", "RateLimitDay", "RateLimitSlot", "SocialAccount", "StatisticsPoint", "SyncLease", "SyncRun", "Tag",
    "TagDetail", "TagPost", "WorkerHeartbeat",
]
