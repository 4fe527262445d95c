"""Scenario 7: the console's search (``sessions_app.console.search``) over 1,000,000 messages.

No stack: a fresh database of its own, migrated, then filled in bulk by SQL (``generate_series``):
20 seats, 20,000 customers, 100,000 ended sessions of 10 messages each (customer and servicer
alternating), texts drawn from a vocabulary of shop phrases with an order number in each, so that
some words are in a few messages and others in a fifth of them. The trigram index is dropped
before the load and built afterwards, as the migration does on an existing table, and its build
time is reported. Each query is then asked ``ROUNDS`` times by a servicer (the selector, with its
SQL round trips, in this process); the figures are over all the askings.
"""

from __future__ import annotations

import time

from bench.context import Context, ScenarioReport, Target
from bench.stack import manage
from bench.stats import Latency

TARGET_MS = 200.0
SEATS = 20
CUSTOMERS = 20_000
SESSIONS_PER_CUSTOMER = 5
MESSAGES_PER_SESSION = 10
ROUNDS = 20
# What a servicer looks for: a rare order number, words of every frequency, a customer, short queries.
QUERIES = (
    ("order number (rare)", "A104729"),
    ("order number prefix (~1 in 900 messages)", "A104"),
    ("order number prefix (~1 in 90 messages)", "A10"),
    ("phrase (~1 in 50 messages)", "退货地址"),
    ("phrase (~1 in 25 messages)", "什么时候"),
    ("in every message", "订单 A"),
    ("English word (~1 in 50 messages)", "refund"),
    ("customer name", ""),  # one of the servicer's customers, chosen after the load
    ("two characters (recent chats only)", "快递"),
    ("one character (recent chats only)", "好"),
    ("nothing matches", "不存在的内容xyz"),
)
PHRASES = [
    "你好，在吗",
    "我的订单什么时候发货",
    "已经发货了，请留意快递",
    "退货地址是哪里",
    "可以开发票吗",
    "尺码偏大还是偏小",
    "好的，谢谢",
    "请提供一下订单号",
    "快递一直没有更新",
    "can I get a refund for this",
    "the parcel arrived damaged",
    "这个颜色还有货吗",
    "优惠券怎么用不了",
    "麻烦帮我改一下收货地址",
    "商品质量很好，下次还来",
    "请稍等，我帮您查一下",
    "已为您登记，会尽快处理",
    "运费险可以赔付吗",
    "发货时间大概是两天内",
    "这个型号和上次买的一样吗",
    "支付失败了怎么办",
    "我要投诉",
    "请问有没有赠品",
    "物流显示已签收但我没收到",
    "帮我取消订单吧",
    "申请售后需要什么材料",
    "包装可以加固一下吗",
    "会员积分什么时候到账",
    "您好，很高兴为您服务",
    "see https://shop.example.com/help for details",
    "好评返现是真的吗",
    "能便宜一点吗",
    "这个能用在手机上吗",
    "周末发货吗",
    "请问客服几点下班",
    "我已经付款了",
    "保修期是多久",
    "退货运费谁承担",
    "可以货到付款吗",
    "换货要多久",
    "说明书在哪里下载",
    "what is the delivery time",
    "地址填错了",
    "发票抬头写公司名称",
    "谢谢你的耐心解答",
    "还有别的问题吗",
    "不用了，谢谢",
    "麻烦尽快处理",
    "已经超过七天了还能退吗",
    "颜色和图片不一样",
]
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周"]


def _load(cursor: object) -> dict[str, float]:
    """Seats, customers, sessions and messages in bulk; seconds per step."""
    timings: dict[str, float] = {}

    def step(name: str, statement: str, params: tuple[object, ...] = ()) -> None:
        started = time.perf_counter()
        cursor.execute(statement, params)  # type: ignore[attr-defined]
        timings[name] = time.perf_counter() - started

    step(
        "seats",
        """
        INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,
                               is_active, date_joined)
        SELECT '!', false, 'bench-servicer-' || n, '', '', '', false, true, now() FROM generate_series(1, %s) n;
        INSERT INTO seats_seat (user_id, display_name, avatar_url, im_user_id, status, capacity, active_sessions,
                                status_changed_at, away_automatic)
        SELECT id, 'Servicer ' || id, '', 'bench-im-' || id, 'offline', 5, 0, now(), false
        FROM auth_user WHERE username LIKE 'bench-servicer-%%';
        """,
        (SEATS,),
    )
    step(
        "customers",
        """
        INSERT INTO sessions_app_customer (im_user_id, display_name, avatar_url, created_at)
        SELECT 'bench-customer-' || n, (%s::text[])[1 + n %% 10] || '小' || n, '', now()
        FROM generate_series(1, %s) n;
        """,
        (SURNAMES, CUSTOMERS),
    )
    step(
        "sessions",
        """
        INSERT INTO sessions_app_servicesession
            (customer_id, state, seat_id, conv_line, opened_at, assigned_at, closed_at, close_reason,
             last_customer_activity_at, last_seq, awaiting_rating_digit, leaving_message, language, bot_menu,
             bot_misses)
        SELECT c.id, 'closed', (SELECT array_agg(id ORDER BY id) FROM seats_seat)[1 + (c.id * 7 + k) %% %s],
               0, t, t, t + interval '10 minutes', 'servicer', t, %s, false, false, 'zh-hans', '[]'::jsonb, 0
        FROM sessions_app_customer c, generate_series(1, %s) k,
             LATERAL (SELECT now() - make_interval(mins => ((c.id * %s + k) %% 525600)::int)) AS opened(t);
        """,
        (SEATS, MESSAGES_PER_SESSION, SESSIONS_PER_CUSTOMER, SESSIONS_PER_CUSTOMER),
    )
    step(
        "messages",
        """
        INSERT INTO sessions_app_message
            (session_id, seq, direction, author, seat_id, content_type, payload, server_timestamp, created_at)
        SELECT s.id, g.n,
               CASE WHEN g.n %% 2 = 1 THEN 'in' ELSE 'out' END,
               CASE WHEN g.n %% 2 = 1 THEN 'customer' ELSE 'servicer' END,
               CASE WHEN g.n %% 2 = 1 THEN NULL ELSE s.seat_id END,
               1,
               jsonb_build_object('type', 1, 'searchableContent',
                   (%s::text[])[1 + floor(random() * %s)::int]
                   || ' 订单 A' || (100000 + floor(random() * 900000)::int)),
               (extract(epoch FROM s.opened_at) * 1000)::bigint + g.n * 20000,
               s.opened_at
        FROM sessions_app_servicesession s, generate_series(1, %s) g(n);
        """,
        (PHRASES, len(PHRASES), MESSAGES_PER_SESSION),
    )
    return timings


def run(ctx: Context) -> ScenarioReport:
    plan = ctx.stack_plan()
    manage(plan.env, "migrate", "-v0")
    from django.db import connection

    from seats.models import Seat
    from sessions_app.console.search import console_search
    from sessions_app.models import Customer

    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX message_text_trgm_idx")
        load = _load(cursor)
        started = time.perf_counter()
        cursor.execute(
            "CREATE INDEX message_text_trgm_idx ON sessions_app_message "
            "USING gin ((payload ->> 'searchableContent') gin_trgm_ops)"
        )
        load["trigram index"] = time.perf_counter() - started
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM sessions_app_message")
        (messages,) = cursor.fetchone()
        cursor.execute("SELECT pg_size_pretty(pg_relation_size('message_text_trgm_idx'))")
        (index_size,) = cursor.fetchone()
    seat = Seat.objects.order_by("pk").first()
    assert seat is not None
    customer = Customer.objects.filter(sessions__seat=seat).order_by("pk").first()
    assert customer is not None
    lines = [
        f"{messages:,} messages in {CUSTOMERS * SESSIONS_PER_CUSTOMER:,} ended sessions of {CUSTOMERS:,} customers"
        f" and {SEATS} servicers (each servicer's share: about {messages // SEATS:,} messages). Load by SQL: "
        + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in load.items())
        + f"; the trigram index takes {index_size}.",
        "",
        f"Each query asked {ROUNDS} times by one servicer, through the selector (`console_search`: the customers,"
        " then the messages, newest 20).",
        "",
        "| query | hits (customers + messages) | p50 / p95 / max (ms) |",
        "|---|---|---|",
    ]
    samples_all: list[float] = []
    for label, query in QUERIES:
        query = query or customer.display_name
        console_search(seat=seat, query=query)  # warm the plan and the cache, as a servicer's second search
        samples: list[float] = []
        hits = 0
        for _round in range(ROUNDS):
            started = time.perf_counter()
            result = console_search(seat=seat, query=query)
            samples.append((time.perf_counter() - started) * 1000)
            hits = len(result["customers"]) + len(result["messages"])
        latency = Latency.of(samples)
        samples_all += samples
        lines.append(f"| {label}: `{query}` | {hits} | {latency.p50:.1f} / {latency.p95:.1f} / {latency.max:.1f} |")
    overall = Latency.of(samples_all)
    lines += ["", f"All queries: p50 {overall.p50:.1f} ms, p95 {overall.p95:.1f} ms, max {overall.max:.1f} ms."]
    target = Target(
        "console search p95 with 1,000,000 messages",
        f"< {TARGET_MS:g} ms",
        f"{overall.p95:.1f} ms",
        overall.p95 < TARGET_MS,
    )
    return ScenarioReport(
        name="search",
        title="Console search",
        markdown="\n".join(lines),
        targets=[target],
        figures={"search_p95_ms": overall.p95},
    )
