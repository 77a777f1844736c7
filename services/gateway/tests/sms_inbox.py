"""A real HTTP server playing the SMS provider of sla's `http` gateway, for
the sign-in tests: it keeps every message it receives, so a test reads the
code the way a person reads their phone."""
import json
import re
import threading

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CODE = re.compile(r"验证码为 (\d{6})")


class SmsInbox:
    def __init__(self):
        self.messages = []
        self.status = 200
        self.server = make_server("127.0.0.1", 0, self.app)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms/send"

    @Request.application
    def app(self, request):
        self.messages.append(request.get_json())
        body = {"message_id": f"inbox-{len(self.messages)}"} if self.status < 300 else {}
        return Response(json.dumps(body), status=self.status, mimetype="application/json")

    def config(self):
        """sla's `SMS:` section sending here."""
        return {"provider": "http", "url": self.url, "signature": "恒大售后", "timeout": 5}

    def to(self, mobile):
        return [m for m in self.messages if m["mobile"] == mobile]

    def code(self, mobile):
        """The code of the newest SMS to `mobile`."""
        sent = self.to(mobile)
        assert sent, f"no SMS to {mobile}"
        match = CODE.search(sent[-1]["content"])
        assert match, sent[-1]["content"]
        return match.group(1)

    def close(self):
        self.server.shutdown()
