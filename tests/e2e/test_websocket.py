"""WebSocket APIs: connections routed to a function by the selection expression, the
`@connections` management API, and AWS's limits; driven by a real WebSocket client."""
import json
import socket
import struct
import time

import pytest
import websocket

from conftest import CONFIG, Lamina, create, function_zip
from test_gateway import lambda_uri


def chat_api(lamina, lam, collector):
    arn = create(lam, "chat", handler="chat.handler", code=function_zip("chat.py"), Timeout=10,
                 Environment={"Variables": {"COLLECTOR": collector.url}})["FunctionArn"]
    v2 = lamina.client("apigatewayv2")
    api = v2.create_api(Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    assert api["ProtocolType"] == "WEBSOCKET"
    i = v2.create_integration(ApiId=api["ApiId"], IntegrationType="AWS_PROXY", IntegrationUri=lambda_uri(arn))
    target = f"integrations/{i['IntegrationId']}"
    for key in ["$connect", "$disconnect", "$default", "send", "gone"]:
        v2.create_route(ApiId=api["ApiId"], RouteKey=key, Target=target)
    whoami = v2.create_route(ApiId=api["ApiId"], RouteKey="whoami", Target=target,
                             RouteResponseSelectionExpression="$default")
    v2.create_route_response(ApiId=api["ApiId"], RouteId=whoami["RouteId"], RouteResponseKey="$default")
    assert [r["RouteResponseKey"] for r in
            v2.get_route_responses(ApiId=api["ApiId"], RouteId=whoami["RouteId"])["Items"]] == ["$default"]
    v2.create_stage(ApiId=api["ApiId"], StageName="prod", AutoDeploy=True)
    return api["ApiId"]


def connect(lamina, api_id, token="let-me-in"):
    return websocket.create_connection(
        f"ws://127.0.0.1:{lamina.port}/_aws/execute-api/{api_id}/prod?token={token}", timeout=20)


def events_until(collector, predicate):
    """Reported events, until one satisfies `predicate`; returns that one."""
    while True:
        event = collector.get()["event"]
        if predicate(event):
            return event


def whoami(ws):
    ws.send(json.dumps({"action": "whoami"}))
    return json.loads(ws.recv())["you"]


def test_a_chat_connects_routes_by_action_and_broadcasts(lamina, lam, collector):
    api_id = chat_api(lamina, lam, collector)
    alice, bob = connect(lamina, api_id), connect(lamina, api_id)
    a, b = whoami(alice), whoami(bob)
    assert a != b and len(a) == 12

    alice.send(json.dumps({"action": "send", "to": [a, b], "text": "hello"}))
    assert json.loads(alice.recv()) == {"from": a, "text": "hello"}
    assert json.loads(bob.recv()) == {"from": a, "text": "hello"}
    # No route named "dance": $default answers.
    bob.send(json.dumps({"action": "dance", "n": 1}))
    assert json.loads(bob.recv()) == {"echo": {"action": "dance", "n": 1}}

    connected = events_until(collector, lambda e: e["requestContext"]["eventType"] == "CONNECT")
    ctx = connected["requestContext"]
    assert (ctx["routeKey"], ctx["stage"], ctx["apiId"], ctx["messageDirection"]) == ("$connect", "prod", api_id, "IN")
    assert connected["queryStringParameters"] == {"token": "let-me-in"}
    assert connected["headers"]["Sec-WebSocket-Version"] == "13" and connected["headers"]["Sec-WebSocket-Key"]
    sent = events_until(collector, lambda e: e["requestContext"]["routeKey"] == "send")
    ctx = sent["requestContext"]
    assert (ctx["eventType"], ctx["connectionId"], ctx["domainName"]) == ("MESSAGE", a, f"127.0.0.1:{lamina.port}")
    assert ctx["messageId"] and ctx["requestId"] and isinstance(ctx["connectedAt"], int)
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert json.loads(sent["body"])["text"] == "hello" and sent["isBase64Encoded"] is False

    status, _, metrics = lamina.http("GET", "/_lamina/metrics")
    assert "lamina_websocket_connections 2" in metrics.decode()
    alice.close()
    bob.close()


def test_connect_can_refuse_and_the_api_host_works_too(lamina, lam, collector):
    api_id = chat_api(lamina, lam, collector)
    by_host = websocket.create_connection(f"ws://127.0.0.1:{lamina.port}/prod?token=let-me-in", timeout=20,
                                          host=f"{api_id}.execute-api.localhost:{lamina.port}")
    me = whoami(by_host)
    # The function answers through https://{api-id}.execute-api.localhost:{port}/prod, the
    # endpoint it builds from its event: a name its environment resolves, and a
    # certificate it trusts.
    by_host.send(json.dumps({"action": "send", "to": [me], "text": "by name"}))
    assert json.loads(by_host.recv()) == {"from": me, "text": "by name"}
    sent = events_until(collector, lambda e: e["requestContext"]["routeKey"] == "send")
    assert sent["requestContext"]["domainName"] == f"{api_id}.execute-api.localhost:{lamina.port}"
    by_host.close()
    # wss:// on the same port, with the data directory's certificate authority.
    url = f"wss://localhost:{lamina.port}/_aws/execute-api/{api_id}/prod?token=let-me-in"
    secure = websocket.create_connection(url, timeout=20, sslopt={"ca_certs": str(lamina.data_dir / "tls" / "ca.pem")})
    assert len(whoami(secure)) == 12
    secure.close()
    # $connect picks the subprotocol, and its headers answer the handshake.
    chosen = websocket.create_connection(f"ws://127.0.0.1:{lamina.port}/_aws/execute-api/{api_id}/prod?token=let-me-in",
                                         timeout=20, subprotocols=["chat.v1", "chat.v2"])
    assert chosen.getsubprotocol() == "chat.v2" and chosen.getheaders()["x-chat"] == "v2"
    chosen.close()
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(lamina, api_id, token="wrong")
    assert refused.value.status_code == 403


def test_disconnect_runs_for_a_vanished_client_and_its_id_is_then_gone(lamina, lam, collector):
    api_id = chat_api(lamina, lam, collector)
    doomed, survivor = connect(lamina, api_id), connect(lamina, api_id)
    doomed_id, survivor_id = whoami(doomed), whoami(survivor)
    manage = lamina.client("apigatewaymanagementapi", endpoint_url=f"{lamina.url}/prod")
    got = manage.get_connection(ConnectionId=doomed_id)
    assert got["Identity"]["SourceIp"] == "127.0.0.1" and got["ConnectedAt"]

    # The client vanishes: no close frame, the socket just goes.
    doomed.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    doomed.sock.close()
    gone = events_until(collector, lambda e: e["requestContext"]["eventType"] == "DISCONNECT")
    assert gone["requestContext"]["connectionId"] == doomed_id
    assert gone["requestContext"]["routeKey"] == "$disconnect"
    assert gone["requestContext"]["disconnectStatusCode"] == 1006
    # As on AWS: not the handshake's headers, but these.
    assert gone["headers"] == {"Host": f"127.0.0.1:{lamina.port}", "x-api-key": "", "X-Forwarded-For": "127.0.0.1",
                               "x-restapi": ""}

    with pytest.raises(manage.exceptions.GoneException):
        manage.post_to_connection(ConnectionId=doomed_id, Data=b"anyone?")
    survivor.send(json.dumps({"action": "gone", "id": doomed_id}))
    assert survivor.recv() == "that one is gone"

    # DeleteConnection closes a connection from the server side.
    manage.delete_connection(ConnectionId=survivor_id)
    opcode, data = survivor.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    closed = events_until(collector, lambda e: e["requestContext"]["eventType"] == "DISCONNECT")
    assert closed["requestContext"]["connectionId"] == survivor_id


def send_in_frames(ws, text, frame_size):
    """One message, sent as frames of `frame_size` bytes."""
    chunks = [text[i:i + frame_size] for i in range(0, len(text), frame_size)]
    for n, chunk in enumerate(chunks):
        opcode = websocket.ABNF.OPCODE_TEXT if n == 0 else websocket.ABNF.OPCODE_CONT
        ws.send_frame(websocket.ABNF.create_frame(chunk, opcode, fin=int(n == len(chunks) - 1)))


def test_oversized_frames_and_messages_close_the_connection_with_1009(lamina, lam, collector):
    api_id = chat_api(lamina, lam, collector)
    ws = connect(lamina, api_id)
    ws.send(json.dumps({"action": "dance", "pad": "x" * 100}))
    assert json.loads(ws.recv())["echo"]["pad"] == "x" * 100
    # A message may span frames, up to 128 KB in all.
    send_in_frames(ws, json.dumps({"action": "dance", "pad": "y" * (120 * 1024)}), 30 * 1024)
    assert json.loads(ws.recv())["echo"]["pad"] == "y" * (120 * 1024)
    send_in_frames(ws, json.dumps({"action": "dance", "pad": "z" * (130 * 1024)}), 30 * 1024)
    opcode, data = ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert struct.unpack("!H", data[:2])[0] == 1009
    disconnected = events_until(collector, lambda e: e["requestContext"]["eventType"] == "DISCONNECT")
    assert disconnected["requestContext"]["disconnectStatusCode"] == 1009

    ws = connect(lamina, api_id)
    ws.send(json.dumps({"action": "dance", "pad": "x" * (33 * 1024)}))
    opcode, data = ws.recv_data(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_CLOSE
    assert struct.unpack("!H", data[:2])[0] == 1009
    disconnected = events_until(collector, lambda e: e["requestContext"]["eventType"] == "DISCONNECT")
    assert disconnected["requestContext"]["disconnectStatusCode"] == 1009


def test_a_connect_authorizer_admits_and_refuses_by_query_string(lamina, lam, collector):
    api_id = chat_api(lamina, lam, collector)
    authz = create(lam, "ws-authz", handler="authorizer.handler", code=function_zip("authorizer.py"))["FunctionArn"]
    v2 = lamina.client("apigatewayv2")
    a = v2.create_authorizer(ApiId=api_id, Name="tokens", AuthorizerType="REQUEST", AuthorizerUri=lambda_uri(authz),
                             IdentitySource=["route.request.querystring.token"])
    connect_route = next(r for r in v2.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "$connect")
    v2.update_route(ApiId=api_id, RouteId=connect_route["RouteId"], AuthorizationType="CUSTOM",
                    AuthorizerId=a["AuthorizerId"])
    url = f"ws://127.0.0.1:{lamina.port}/_aws/execute-api/{api_id}/prod"
    for query, status in [("?token=deny-mallory", 403), ("", 401)]:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(url + query, timeout=20)
        assert refused.value.status_code == status
    ws = websocket.create_connection(url + "?token=allow-ann", timeout=20)
    assert len(whoami(ws)) == 12
    connected = events_until(collector, lambda e: e["requestContext"]["eventType"] == "CONNECT")
    assert connected["requestContext"]["authorizer"]["principalId"] == "user-allow-ann"
    asked = events_until(collector, lambda e: e["requestContext"]["routeKey"] == "whoami")
    assert asked["requestContext"]["authorizer"]["token"] == "allow-ann"
    ws.close()


def test_mock_and_non_proxy_routes_answer_through_their_templates(lamina, lam):
    arn = create(lam, "mapped", handler="app.handler", code=function_zip("app.py"))["FunctionArn"]
    v2 = lamina.client("apigatewayv2")
    api = v2.create_api(Name="mapped", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
    api_id = api["ApiId"]
    mock = v2.create_integration(ApiId=api_id, IntegrationType="MOCK", TemplateSelectionExpression="\\$default",
                                 RequestTemplates={"$default": '{"statusCode": 200}'})
    assert mock["RequestTemplates"] == {"$default": '{"statusCode": 200}'}
    pong = v2.create_integration_response(
        ApiId=api_id, IntegrationId=mock["IntegrationId"], IntegrationResponseKey="$default",
        TemplateSelectionExpression="\\$default",
        ResponseTemplates={"$default": '{"pong": "$context.connectionId", "route": "$context.routeKey"}'})
    assert v2.get_integration_responses(ApiId=api_id, IntegrationId=mock["IntegrationId"])["Items"] == [
        {k: pong[k] for k in ["IntegrationResponseId", "IntegrationResponseKey", "ResponseTemplates",
                              "TemplateSelectionExpression"]}]
    with pytest.raises(v2.exceptions.BadRequestException):
        v2.create_integration_response(ApiId=api_id, IntegrationId=mock["IntegrationId"],
                                       IntegrationResponseKey="2xx")
    function = v2.create_integration(
        ApiId=api_id, IntegrationType="AWS", IntegrationUri=lambda_uri(arn),
        RequestTemplates={"$default": '{"action": "$input.path(\'$.do\')", "said": $input.json(\'$.text\'), '
                                      '"who": "$context.connectionId", '
                                      '"message": "refused: $input.path(\'$.text\')"}'})
    v2.create_integration_response(
        ApiId=api_id, IntegrationId=function["IntegrationId"], IntegrationResponseKey="$default",
        ResponseTemplates={"$default": '{"heard": $input.json(\'$.event.said\'), '
                                       '"from": $input.json(\'$.event.who\')}'})
    v2.create_integration_response(
        ApiId=api_id, IntegrationId=function["IntegrationId"], IntegrationResponseKey="/.*refused.*/",
        ResponseTemplates={"$default": '{"failed": "$input.path(\'$.errorMessage\')"}'})

    def two_way(key, integration):
        route = v2.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integration['IntegrationId']}",
                                RouteResponseSelectionExpression="$default")
        v2.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")

    v2.create_route(ApiId=api_id, RouteKey="$connect", Target=f"integrations/{mock['IntegrationId']}")
    two_way("ping", mock)
    two_way("say", function)
    v2.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)

    ws = connect(lamina, api_id)
    ws.send(json.dumps({"action": "ping"}))
    pong = json.loads(ws.recv())
    assert pong["route"] == "ping" and len(pong["pong"]) == 12
    ws.send(json.dumps({"action": "say", "do": "echo", "text": "hi there"}))
    assert json.loads(ws.recv()) == {"heard": "hi there", "from": pong["pong"]}
    ws.send(json.dumps({"action": "say", "do": "error", "text": "x"}))
    assert json.loads(ws.recv()) == {"failed": "refused: x"}
    ws.close()

    # A MOCK $connect whose template answers 403 refuses every connection.
    v2.update_integration(ApiId=api_id, IntegrationId=mock["IntegrationId"],
                          RequestTemplates={"$default": '{"statusCode": 403}'})
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(lamina, api_id)
    assert refused.value.status_code == 403


def test_idle_connections_and_connections_past_their_maximum_age_are_closed(tmp_path):
    server = Lamina(tmp_path / "data", config=CONFIG + "[websocket]\nidle_timeout_secs = 1\nmax_connection_secs = 3\n")
    server.start()
    try:
        v2 = server.client("apigatewayv2")
        api_id = v2.create_api(Name="clock", ProtocolType="WEBSOCKET",
                               RouteSelectionExpression="$request.body.action")["ApiId"]
        mock = v2.create_integration(ApiId=api_id, IntegrationType="MOCK",
                                     RequestTemplates={"$default": '{"statusCode": 200}'})
        v2.create_integration_response(ApiId=api_id, IntegrationId=mock["IntegrationId"],
                                       IntegrationResponseKey="$default",
                                       ResponseTemplates={"$default": "$context.connectionId"})
        route = v2.create_route(ApiId=api_id, RouteKey="$default", Target=f"integrations/{mock['IntegrationId']}",
                                RouteResponseSelectionExpression="$default")
        v2.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")
        v2.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)
        manage = server.client("apigatewaymanagementapi", endpoint_url=f"{server.url}/prod")

        # Silent for a second: closed, and gone.
        idle = connect(server, api_id)
        opcode, data = idle.recv_data(control_frame=True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE and struct.unpack("!H", data[:2])[0] == 1001

        # Busy: outlives the idle timeout, but not the maximum connection time.
        busy = connect(server, api_id)
        started, ids = time.monotonic(), set()
        while True:
            busy.send("ping")
            opcode, data = busy.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                break
            ids.add(data.decode())
            # The client's pace: a message every 200 ms keeps the connection from idling.
            time.sleep(0.2)
        assert struct.unpack("!H", data[:2])[0] == 1001
        assert time.monotonic() - started > 2, f"closed after {len(ids)} answers"
        [busy_id] = ids
        with pytest.raises(manage.exceptions.GoneException):
            manage.get_connection(ConnectionId=busy_id)
    finally:
        server.stop()


def test_a_connect_route_can_require_an_api_key_of_a_usage_plan(lamina, lam, collector):
    api_id = chat_api(lamina, lam, collector)
    v2, gw = lamina.client("apigatewayv2"), lamina.client("apigateway")
    connect_route = next(r for r in v2.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "$connect")
    v2.update_route(ApiId=api_id, RouteId=connect_route["RouteId"], ApiKeyRequired=True)
    key = gw.create_api_key(name="chatter", enabled=True)
    plan = gw.create_usage_plan(name="chat", apiStages=[{"apiId": api_id, "stage": "prod"}])
    gw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    url = f"ws://127.0.0.1:{lamina.port}/_aws/execute-api/{api_id}/prod?token=let-me-in"
    for header in [[], ["x-api-key: not-a-key"]]:
        with pytest.raises(websocket.WebSocketBadStatusException) as refused:
            websocket.create_connection(url, timeout=20, header=header)
        assert refused.value.status_code == 403
    ws = websocket.create_connection(url, timeout=20, header=[f"x-api-key: {key['value']}"])
    assert len(whoami(ws)) == 12
    ws.close()


def test_http_routes_send_messages_to_a_backend_and_answer_with_what_it_says(lamina, collector):
    v2 = lamina.client("apigatewayv2")
    api_id = v2.create_api(Name="relay", ProtocolType="WEBSOCKET",
                           RouteSelectionExpression="$request.body.action")["ApiId"]
    proxy = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri=collector.url,
                                  IntegrationMethod="POST")
    mapped = v2.create_integration(
        ApiId=api_id, IntegrationType="HTTP", IntegrationUri=collector.url, IntegrationMethod="POST",
        RequestTemplates={"$default": '{"request_id": "$context.connectionId", "said": $input.json(\'$.text\')}'})
    v2.create_integration_response(ApiId=api_id, IntegrationId=mapped["IntegrationId"],
                                   IntegrationResponseKey="/2\\d\\d/",
                                   ResponseTemplates={"$default": '{"times": $input.json(\'$.seen\')}'})
    for key, integration in [("relay", proxy), ("count", mapped)]:
        route = v2.create_route(ApiId=api_id, RouteKey=key, Target=f"integrations/{integration['IntegrationId']}",
                                RouteResponseSelectionExpression="$default")
        v2.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")
    v2.create_stage(ApiId=api_id, StageName="prod", AutoDeploy=True)

    ws = connect(lamina, api_id)
    ws.send(json.dumps({"action": "relay", "text": "as is"}))
    assert json.loads(ws.recv()) == {"seen": 1}
    assert collector.get() == {"action": "relay", "text": "as is"}
    for n in [1, 2]:
        ws.send(json.dumps({"action": "count", "text": "mapped"}))
        assert json.loads(ws.recv()) == {"times": n}
        assert collector.get()["said"] == "mapped"
    ws.close()


def test_an_aws_iam_connect_route_wants_a_signed_handshake(lamina, lam, collector):
    api_id = chat_api(lamina, lam, collector)
    v2 = lamina.client("apigatewayv2")
    connect_route = next(r for r in v2.get_routes(ApiId=api_id)["Items"] if r["RouteKey"] == "$connect")
    v2.update_route(ApiId=api_id, RouteId=connect_route["RouteId"], AuthorizationType="AWS_IAM")
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        connect(lamina, api_id)
    assert refused.value.status_code == 403
    # Open mode checks that a SigV4 signature is there (authenticated mode verifies it).
    signed = ["Authorization: AWS4-HMAC-SHA256 Credential=test/20261127/us-east-1/execute-api/aws4_request, "
              "SignedHeaders=host, Signature=0"]
    ws = websocket.create_connection(f"ws://127.0.0.1:{lamina.port}/_aws/execute-api/{api_id}/prod?token=let-me-in",
                                     timeout=20, header=signed)
    assert len(whoami(ws)) == 12
    ws.close()
