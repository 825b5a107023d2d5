"""nbgrader settings of a student's server on the course's JupyterHub: /etc/jupyter/nbgrader_config.py in the
single-user image (hub/Dockerfile). The same environment variables as the course's own nbgrader_config.py."""

import os

c = get_config()  # noqa: F821  (provided by traitlets when this file is loaded)

c.CourseDirectory.course_id = os.environ.get("COURSE_ID", "docker-cicd")
c.Exchange.root = os.environ.get("COURSE_EXCHANGE", "/srv/nbgrader/exchange")
c.Exchange.path_includes_course = True
# Every student the same OS user (Zero to JupyterHub): submit into inbound/<student>/, feedback from
# feedback/<student>/ (helpers/grading/exchange.py).
if os.environ.get("COURSE_EXCHANGE_PERSONALIZED", "").strip().lower() in ("1", "true", "yes"):
    c.ExchangeFactory.submit = "helpers.grading.exchange.PersonalInboundSubmit"
    c.ExchangeFactory.collect = "helpers.grading.exchange.PersonalInboundCollect"
    c.ExchangeFactory.list = "helpers.grading.exchange.PersonalInboundList"
    c.ExchangeFactory.release_feedback = "helpers.grading.exchange.PersonalFeedbackRelease"
    c.ExchangeFactory.fetch_feedback = "helpers.grading.exchange.PersonalFeedbackFetch"
