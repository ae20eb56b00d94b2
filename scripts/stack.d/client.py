#!/usr/bin/env python3
"""A browser's part in the stack test, with the standard library only.

  client.py BASE_URL USER PASSWORD create ID            -> prints the status
  client.py BASE_URL USER PASSWORD stream PREFIX SECS   -> creates PREFIX-1.. for SECS,
                                                           prints the IDs answered 303
  client.py BASE_URL USER PASSWORD storm PREFIX IDS N [CMD...]
      -> N simultaneous creates of each of IDS IDs; prints status counts. With CMD,
         runs it once half of the answers are in (a fault in the middle of the storm).
"""
import concurrent.futures
import http.client
import json
import re
import subprocess
import sys
import threading
import time
import urllib.parse


class Session:
    def __init__(self, base):
        parsed = urllib.parse.urlsplit(base)
        self.host, self.port = parsed.hostname, parsed.port or 80
        self.cookies = {}
        self.csrf = None

    def request(self, method, path, body=None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            body = urllib.parse.urlencode({**body, "csrf_token": self.csrf})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', text)
        if token:
            self.csrf = token.group(1)
        return response.status, text

    def sign_in(self, user, password):
        # Right after a restart Roster may answer 503 until its pool has reconnected:
        # try again, within a deadline.
        deadline = time.monotonic() + 30
        while True:
            self.request("GET", "/login")
            status, _ = self.request("POST", "/login", {"username": user, "password": password})
            if status == 303:
                break
            if time.monotonic() > deadline:
                sys.exit(f"sign-in answered {status}")
            time.sleep(1)
        self.request("GET", "/employees")

    def create(self, employee_id):
        status, _ = self.request(
            "POST",
            "/employees",
            {
                "employee_id": employee_id,
                "first_name": "Stack",
                "last_name": "Test",
                "email": f"{employee_id.lower()}@example.com",
                "hire_date": "2024-01-01",
            },
        )
        return status


def main():
    base, user, password, command, *rest = sys.argv[1:]
    session = Session(base)
    session.sign_in(user, password)
    if command == "create":
        print(session.create(rest[0]))
    elif command == "stream":
        prefix, seconds = rest[0], float(rest[1])
        created, answers, n = [], {}, 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            n += 1
            try:
                status = session.create(f"{prefix}-{n}")
            except OSError:
                status = "no answer"
            answers[str(status)] = answers.get(str(status), 0) + 1
            if status == 303:
                created.append(f"{prefix}-{n}")
            time.sleep(0.02)
        print(json.dumps({"created": created, "answers": answers}))
    elif command == "storm":
        prefix, ids, each, fault = rest[0], int(rest[1]), int(rest[2]), rest[3:]
        jobs = [f"{prefix}-{i}" for i in range(ids) for _ in range(each)]
        answered = [0]
        lock = threading.Lock()

        def submit(employee_id):
            try:
                status = str(session.create(employee_id))
            except OSError as error:
                status = f"error: {error}"
            with lock:
                answered[0] += 1
                halfway = answered[0] == len(jobs) // 2
            if halfway and fault:
                subprocess.run(fault, check=True, stdout=subprocess.DEVNULL)
            return status

        answers = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
            for status in pool.map(submit, jobs):
                answers[status] = answers.get(status, 0) + 1
        print(json.dumps(answers))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
