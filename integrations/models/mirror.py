"""The mirror of a location's Social Planner data: accounts, tags, tag details, posts, statistics.

Rows are written only by integrations/sync/ (idempotent upserts that compare before writing). HighLevel's
own ids are kept as strings (`tag_id`, `account_id`, `post_id`); our own bookkeeping times
(`first_seen_at`, `last_seen_at`, `removed_at`) are kept apart from HighLevel's (`created_at`, `updated_at`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import connections, models
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations import tag_search

# A tag stays "new" for this many days after Tagscope first saw it (the overview's count, the status=new
# filter, the badge, the API's is_new).
NEW_TAG_DAYS = 7


def new_since(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(days=NEW_TAG_DAYS)


class SocialAccount(models.Model):
    location = models.ForeignKey("integrations.Location", on_delete=models.CASCADE, related_name="social_accounts")
    account_id = models.CharField(max_length=255)  # HighLevel's account `id` (oauthId_locationId_profileId_type: long)
    profile_id = models.CharField(max_length=128, blank=True)  # what statistics asks for
    platform = models.CharField(max_length=20)
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=30, blank=True)
    expired = models.BooleanField(default=False)  # HighLevel's isExpired
    expires_at = models.DateTimeField(null=True, blank=True)  # HighLevel's expire
    raw = models.JSONField(default=dict)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["platform", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["location", "account_id"], name="socialaccount_location_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.platform})"


class TagQuerySet(models.QuerySet):
    def new(self, now: datetime | None = None, *, by_status_index: bool = True) -> TagQuerySet:
        """The tags `Tag.is_new` holds for, in SQL. `by_status_index=False`: the same rows, with the recency
        test written so that no index can take it (for many new tags, read along a sort index instead:
        PostgreSQL takes "recent" and "not baseline" for independent, expects 50 times too few new tags,
        and would read all 20,000 of them through the status index to sort them for one page)."""
        since = new_since(now)
        if by_status_index:
            return self.filter(removed_at__isnull=True, is_baseline=False, first_seen_at__gte=since)
        return self.alias(_first_seen=Coalesce(F("first_seen_at"), F("first_seen_at"))).filter(
            removed_at__isnull=True, is_baseline=False, _first_seen__gte=since)

    def search(self, q: str, *, location_pk: int | None = None) -> TagQuerySet:
        """Tags whose name contains `q`, ignoring case; `%` and `_` are literal; of one location when given.
        The same rows with or without the trigram index (integrations/tag_search.py): the index only
        narrows the candidates. Keep the queryset's ordering: a narrowed search re-sorts the few it finds."""
        needle = q.casefold()
        if len(needle) < tag_search.MIN_LENGTH:
            # No trigram in it: the trigram index cannot narrow it, and PostgreSQL, guessing such a needle
            # rare, read the whole index for it. As an expression it is tested along the list's own order.
            found = self.alias(_name=Coalesce(F("sort_name"), F("sort_name"))).filter(_name__contains=needle)
            return found if location_pk is None else found.filter(location_id=location_pk)
        found = self.filter(sort_name__contains=needle)
        connection = connections[self.db]
        ids = tag_search.sqlite_candidates(connection, needle) if connection.vendor == "sqlite" else None
        if ids is None and not (connection.vendor == "postgresql" and tag_search.narrows(connection, needle)):
            return found if location_pk is None else found.filter(location_id=location_pk)
        if connection.vendor == "postgresql":  # the GIN index finds the few; an expression order sorts them
            joined = [tag_search.words_pattern(needle)]  # a parameter; the SQL is a constant
            found = found.extra(where=[tag_search.POSTGRES_WORDS_LIKE], params=joined)  # noqa: S610
            found = found.order_by(*unindexed(found.query.order_by))
            return found if location_pk is None else found.filter(location_id=location_pk)
        # The probe's own candidates, handed back as one JSON parameter: the page, its count and its
        # segments read them by id, where each searched the FTS5 table again (~50 ms for `spring-sale`).
        candidates = RawSQL(tag_search.SQLITE_CANDIDATES_SQL, [ids])  # noqa: S611 (constant SQL)
        found = found.filter(pk__in=candidates).order_by(*unindexed(found.query.order_by))
        if location_pk is not None:
            # `+` keeps SQLite from reading the location's whole index (it guesses a location holds ~10
            # rows) instead of looking up the candidates by id.
            found = found.extra(where=["+integrations_tag.location_id = %s"], params=[location_pk])
        return found


def unindexed(ordering: tuple[Any, ...]) -> list[Any]:
    """The same order, its leading column wrapped in COALESCE(x, x): SQLite then reads the few candidates
    and sorts them, instead of walking the location's whole sort index (its planner, without statistics,
    takes a location's index for a few rows)."""
    if not ordering or not isinstance(ordering[0], str) or ordering[0].lstrip("-") in ("id", "pk"):
        return list(ordering)
    first = ordering[0]
    name = first.lstrip("-")
    key = Coalesce(F(name), F(name))
    return [key.desc() if first.startswith("-") else key.asc(), *ordering[1:]]


class Tag(models.Model):
    """A tag as HighLevel listed it. Active while `removed_at` is null.

    `sort_name` is the case-folded name: it orders the list by name and serves the case-insensitive
    substring search (`Tag.objects.search`: `sort_name` contains `q.casefold()`, narrowed by a trigram index).
    `is_baseline`: seen in the location's first complete listing, so never "new".
    """

    location = models.ForeignKey("integrations.Location", on_delete=models.CASCADE, related_name="tags")
    tag_id = models.CharField(max_length=64)  # HighLevel's `_id`
    name = models.CharField(max_length=255)
    sort_name = models.CharField(max_length=255)
    created_by = models.CharField(max_length=64, blank=True)
    deleted = models.BooleanField(default=False)  # HighLevel's own `deleted: true`
    created_at = models.DateTimeField(null=True, blank=True)  # HighLevel's createdAt
    updated_at = models.DateTimeField(null=True, blank=True)  # HighLevel's updatedAt
    raw = models.JSONField(default=dict)
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)
    is_baseline = models.BooleanField(default=False)
    # The listing fingerprint the stored details were fetched for; differs => details are due.
    details_for = models.CharField(max_length=64, blank=True)

    objects = TagQuerySet.as_manager()

    class Meta:
        ordering = ["sort_name", "id"]
        constraints = [models.UniqueConstraint(fields=["location", "tag_id"], name="tag_location_unique")]
        indexes = [
            models.Index(fields=["location", "sort_name", "id"], name="tag_loc_name"),
            models.Index(fields=["location", "updated_at", "id"], name="tag_loc_updated"),
            models.Index(fields=["location", "first_seen_at", "id"], name="tag_loc_first_seen"),
            # is_baseline last: "new" (active, recent, not baseline) is then counted from the index alone.
            models.Index(fields=["location", "removed_at", "first_seen_at", "is_baseline"], name="tag_loc_status"),
            # status=removed under each sort: removed tags are a few among many, so they get their own small
            # (partial) indexes instead of a walk along the whole sort index.
            *[models.Index(fields=["location", key, "id"], condition=models.Q(removed_at__isnull=False),
                           name=f"tag_loc_removed_{short}")
              for key, short in (("sort_name", "name"), ("updated_at", "updated"), ("first_seen_at", "first"))],
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tag_id})"

    def is_new(self, now: datetime | None = None) -> bool:
        """New while active, first seen within NEW_TAG_DAYS, and not part of the location's baseline (the first
        complete listing, which holds every tag that existed before Tagscope looked)."""
        return Tag.counts_as_new(removed_at=self.removed_at, is_baseline=self.is_baseline,
                                 first_seen_at=self.first_seen_at, since=new_since(now))

    @staticmethod
    def counts_as_new(*, removed_at: datetime | None, is_baseline: bool, first_seen_at: datetime,
                      since: datetime) -> bool:
        """The rule on bare values (a CSV export reads tuples, not rows)."""
        return removed_at is None and not is_baseline and first_seen_at >= since


class TagDetail(models.Model):
    """Everything the details endpoint answered about a tag, and when."""

    tag = models.OneToOneField(Tag, on_delete=models.CASCADE, related_name="detail")
    data = models.JSONField(default=dict)
    fetched_at = models.DateTimeField()
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"details of {self.tag_id}"


class Post(models.Model):
    """A Social Planner post as the listing answered it (integrations/sync/posts.py).

    `likes`, `shares`, `comments` are HighLevel's `insights` (v3 only, "populated asynchronously" for
    Facebook, Instagram, LinkedIn and YouTube): None is "not available", never 0. Once seen they are kept
    when a later answer leaves insights out; `insights_at` is when they were last read.
    """

    INSIGHT_FIELDS = ("likes", "shares", "comments")
    PLATFORM_LABELS = {"linkedin": "LinkedIn", "youtube": "YouTube", "tiktok": "TikTok", "twitter": "X (Twitter)"}

    location = models.ForeignKey("integrations.Location", on_delete=models.CASCADE, related_name="posts")
    post_id = models.CharField(max_length=64)
    status = models.CharField(max_length=30, blank=True)
    error = models.TextField(blank=True)  # why a failed post failed, as HighLevel said it
    platform = models.CharField(max_length=20, blank=True)
    account_id = models.CharField(max_length=255, blank=True)  # HighLevel's `accountId`
    account_ids = models.JSONField(default=list)
    tag_ids = models.JSONField(default=list)
    summary = models.TextField(blank=True)
    thumbnail = models.TextField(blank=True)  # an http(s) URL
    post_type = models.CharField(max_length=30, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    display_date = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    likes = models.PositiveIntegerField(null=True, blank=True)
    shares = models.PositiveIntegerField(null=True, blank=True)
    comments = models.PositiveIntegerField(null=True, blank=True)
    insights_at = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict)
    last_seen_at = models.DateTimeField()
    # `when`, stored: the instant that dates the post in tag performance (docs/architecture.md). save() and
    # the sync's writes (integrations/sync/posts.py) keep it; ranges read it through one index, without an OR.
    at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-display_date", "-id"]
        constraints = [models.UniqueConstraint(fields=["location", "post_id"], name="post_location_unique")]
        indexes = [models.Index(fields=["location", "published_at"], name="post_loc_published"),
                   # Covering: tag performance's sums read nothing else (dashboard/selectors/performance_sums.py).
                   models.Index(fields=["location", "at", "platform", "status", "likes", "comments", "shares"],
                                name="post_loc_at"),
                   # Goal pacing and the empty-schedule check count each location's posts scheduled ahead: a few
                   # among hundreds (statuses change, so only the scheduled ones are in it).
                   models.Index(fields=["location", "scheduled_at"], condition=models.Q(status="scheduled"),
                                name="post_loc_scheduled")]

    def __str__(self) -> str:
        return self.post_id

    def save(self, *args, **kwargs):
        self.at = self.when
        super().save(*args, **kwargs)

    @property
    def has_insights(self) -> bool:
        return any(getattr(self, name) is not None for name in self.INSIGHT_FIELDS)

    @property
    def engagement(self) -> int | None:
        """likes + shares + comments; None when none of them is available."""
        values = [getattr(self, name) for name in self.INSIGHT_FIELDS]
        return None if all(v is None for v in values) else sum(v or 0 for v in values)

    @property
    def platform_label(self) -> str:
        return self.label_of(self.platform)

    @classmethod
    def label_of(cls, platform: str) -> str:
        """How a platform is spelled to people ("LinkedIn", "TikTok"): the one place pages and charts ask."""
        return cls.PLATFORM_LABELS.get(platform, platform.capitalize())

    @property
    def insight_values(self) -> tuple[int | None, int | None, int | None]:
        """(likes, comments, shares): the order pages show them in."""
        return self.likes, self.comments, self.shares

    @property
    def when(self):
        """The post's date as people read it: published, else shown, else scheduled."""
        return self.published_at or self.display_date or self.scheduled_at


class PostInsightSnapshot(models.Model):
    """A post's insights as read on one (UTC) day: at most one row per post and day, only within its first
    `SNAPSHOT_DAYS` days after publication (integrations/sync/posts.py), so growth over the first 30 days can
    be drawn and a post never holds more than SNAPSHOT_DAYS rows. A day without a row had no reading: carry
    the previous day's forward."""

    SNAPSHOT_DAYS = 45

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="insight_snapshots")
    day = models.DateField()
    likes = models.PositiveIntegerField(null=True, blank=True)
    shares = models.PositiveIntegerField(null=True, blank=True)
    comments = models.PositiveIntegerField(null=True, blank=True)
    taken_at = models.DateTimeField()

    class Meta:
        ordering = ["post", "day"]
        constraints = [models.UniqueConstraint(fields=["post", "day"], name="postsnapshot_unique")]

    def __str__(self) -> str:
        return f"{self.post_id} {self.day}: {self.likes}/{self.shares}/{self.comments}"


class TagPost(models.Model):
    """A post carrying a tag, by HighLevel tag id (a post may name a tag not listed yet).

    It also carries a copy of the post's figures (COPIED): tag performance sums them per tag over a range
    without joining the posts (docs/architecture.md, "Tag performance"). The posts sync rewrites a post's
    links whenever one of those fields changes, so the copy stays in step; `TagPost.of(post, tag_id)` makes one.
    """

    COPIED = ("at", "status", "platform", "account_id", "likes", "comments", "shares")

    location = models.ForeignKey("integrations.Location", on_delete=models.CASCADE, related_name="+")
    tag_id = models.CharField(max_length=64)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="tag_links")
    at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=30, blank=True)
    platform = models.CharField(max_length=20, blank=True)
    account_id = models.CharField(max_length=255, blank=True)
    likes = models.PositiveIntegerField(null=True, blank=True)
    comments = models.PositiveIntegerField(null=True, blank=True)
    shares = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "tag_id"], name="tagpost_unique")]
        indexes = [models.Index(fields=["location", "tag_id", "post"], name="tagpost_loc_tag"),
                   # Covering: tag performance's sums read nothing else (dashboard/selectors/performance_sums.py).
                   models.Index(fields=["location", "at", "tag_id", "platform", "status", "likes", "comments",
                                        "shares"], name="tagpost_loc_at")]

    def __str__(self) -> str:
        return f"{self.tag_id} <- {self.post_id}"

    def save(self, *args, **kwargs):
        for name, value in zip(self.COPIED, self.copied_of(self.post), strict=True):
            setattr(self, name, value)
        super().save(*args, **kwargs)

    ROW = ("location_id", "tag_id", "post_id", *COPIED)  # every column `row_of` answers, in its order

    @classmethod
    def copied_of(cls, post: Post) -> tuple:
        """The post's values of COPIED, in its order (`at` is the post's `when`)."""
        return tuple(post.when if name == "at" else getattr(post, name) for name in cls.COPIED)

    @classmethod
    def row_of(cls, post: Post, tag_id: str) -> tuple:
        """A link's values in ROW's order: the posts sync inserts them as they are (integrations/bulk.py), without
        a model instance per link."""
        return (post.location_id, tag_id, post.pk, *cls.copied_of(post))

    @classmethod
    def of(cls, post: Post, tag_id: str) -> TagPost:
        return cls(location_id=post.location_id, tag_id=tag_id, post=post,
                   **dict(zip(cls.COPIED, cls.copied_of(post), strict=True)))


class StatisticsPoint(models.Model):
    """One metric of one day, for one account (`profile_id`) or all accounts (`profile_id` ''), on one platform.

    `value` None means HighLevel reported the day but not this number ("not available"), never zero.
    """

    ALL_ACCOUNTS = ""

    location = models.ForeignKey("integrations.Location", on_delete=models.CASCADE, related_name="statistics")
    profile_id = models.CharField(max_length=128, blank=True)
    platform = models.CharField(max_length=20)
    metric = models.CharField(max_length=30)
    day = models.DateField()
    value = models.FloatField(null=True, blank=True)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["location", "profile_id", "platform", "metric", "day"], name="statpoint_unique"
            )
        ]
        indexes = [
            models.Index(fields=["location", "day"], name="statpoint_loc_day"),
            # Covering: the charts read platform, metric and value of a day range without touching the table.
            models.Index(fields=["location", "profile_id", "day", "platform", "metric", "value"],
                         name="statpoint_cover"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.platform} {self.metric}={self.value}"


class Demographics(models.Model):
    """Audience demographics HighLevel answered for one range, per account or all accounts ('')."""

    location = models.ForeignKey("integrations.Location", on_delete=models.CASCADE, related_name="demographics")
    profile_id = models.CharField(max_length=128, blank=True)
    range_start = models.DateField()
    range_end = models.DateField()
    data = models.JSONField(default=dict)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["location", "profile_id", "range_start", "range_end"], name="demographics_unique"
            )
        ]

    def __str__(self) -> str:
        return f"demographics {self.range_start}..{self.range_end}"
