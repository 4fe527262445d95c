from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError

from seats.models import Seat, SkillGroup
from seats.services import seat_create_with_user, supervisor_create
from sessions_app.bot.faq_file import demo_synonyms, faq_file_read
from sessions_app.models import FaqEntry, ServiceSettings

DEMO_SERVICERS = (("servicer1", "客服小王"), ("servicer2", "客服小李"))
# Skill groups (技能组): name, English name, keywords, demo members. Each servicer serves one, so the
# demo shows routing: a customer who picks 售后服务 reaches 客服小李, one who picks 售前咨询 客服小王.
DEMO_SKILL_GROUPS = (
    ("售前咨询", "Pre-sales", "售前,购买,咨询产品", ("servicer1",)),
    ("售后服务", "After-sales", "售后,退货,换货,维修", ("servicer2",)),
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
        groups_created = False
        for order, (name, name_en, keywords, members) in enumerate(DEMO_SKILL_GROUPS, start=1):
            group, created = SkillGroup.objects.get_or_create(
                name=name, defaults={"name_en": name_en, "keywords": keywords, "menu_order": order}
            )
            if created:
                groups_created = True
                group.seats.add(*Seat.objects.filter(user__username__in=members))
        for rank, entry in enumerate(faq_file_read(), start=1):  # sessions_app/bot/demo_faq.json
            FaqEntry.objects.get_or_create(
                question=entry.question,
                defaults={
                    "alternatives": "\n".join(entry.alternatives),
                    "answer": entry.answer,
                    "question_en": entry.question_en,
                    "answer_en": entry.answer_en,
                    "rank": rank,
                },
            )
        config = ServiceSettings.load()
        if config.faq_synonyms == ServiceSettings._meta.get_field("faq_synonyms").get_default():
            config.faq_synonyms = demo_synonyms()  # the demo shop's words, unless the demo changed them
            config.save()
        if groups_created and not config.skill_group_menu_enabled:
            config.skill_group_menu_enabled = True  # a new demo offers its groups; a demo's own choice stays
            config.save()
        self.stdout.write(
            "demo users ready: supervisor, servicer1, servicer2 (password = login); demo FAQ, skill groups ready"
        )
