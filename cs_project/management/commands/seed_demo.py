from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from seats.models import Seat, SkillGroup
from seats.services import seat_create_with_user, supervisor_create
from sessions_app.models import FaqEntry

DEMO_SERVICERS = (("servicer1", "客服小王"), ("servicer2", "客服小李"))
# Skill groups (技能组) and their demo members.
DEMO_SKILL_GROUPS = (("售前咨询", ("servicer1",)), ("售后服务", ("servicer1", "servicer2")))
DEMO_FAQ = (
    (
        "怎么退货？",
        "如何退货\n退货流程\n我要退货",
        "收到商品 7 天内可在“我的订单”中申请退货，审核通过后按页面提示寄回即可。",
    ),
    ("什么时候发货？", "多久发货\n发货时间\n几天发货", "付款后 48 小时内发货，节假日顺延。"),
    (
        "怎么修改收货地址？",
        "改地址\n修改地址\n地址写错了",
        "订单发货前可在订单详情页修改收货地址；已发货的订单请转人工处理。",
    ),
    ("支持哪些付款方式？", "怎么付款\n付款方式\n可以用微信支付吗", "支持微信支付、支付宝和银行卡。"),
)


class Command(BaseCommand):
    help = (
        "Create the demo supervisor, servicers, skill groups and FAQ where they are missing; "
        "passwords equal the logins. What exists is left as it is, so a demo's own edits survive a restart."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            # Logins whose passwords equal their names must never reach a production database.
            raise CommandError("refusing to create the demo's logins while DJANGO_DEBUG is off (development only)")
        logins = set(User.objects.values_list("username", flat=True))
        if "supervisor" not in logins:
            supervisor_create(username="supervisor", password="supervisor")  # noqa: S106 - demo only
        for login, display_name in DEMO_SERVICERS:
            if login not in logins:
                seat_create_with_user(
                    username=login, password=login, display_name=display_name, capacity=3, im_user_id=login
                )
        for name, members in DEMO_SKILL_GROUPS:
            group, created = SkillGroup.objects.get_or_create(name=name)
            if created:
                group.seats.add(*Seat.objects.filter(user__username__in=members))
        for rank, (question, alternatives, answer) in enumerate(DEMO_FAQ, start=1):
            FaqEntry.objects.get_or_create(
                question=question, defaults={"alternatives": alternatives, "answer": answer, "rank": rank}
            )
        self.stdout.write(
            "demo users ready: supervisor, servicer1, servicer2 (password = login); demo FAQ, skill groups ready"
        )
