"""Ruby functions (`ruby3.2`–`ruby3.4`) through Lamina's Ruby runtime client: AWS's
`handler(event:, context:)` contract, its context, its error documents, a class method as
handler, layers' `ruby/lib`, and timeouts. `cargo xtask test` installs the host's Ruby
(Debian's) when it is missing."""
import json
import subprocess

from conftest import SUBSTITUTE_NOTICE, create, invoke_json, log_of, zip_bytes

APP = """
require 'json'

def handler(event:, context:)
  puts "ruby got #{event.to_json}"
  raise ArgumentError, event['fail'] if event['fail']
  sleep(event['sleep']) if event['sleep']
  {
    'event' => event,
    'request_id' => context.aws_request_id,
    'arn' => context.invoked_function_arn,
    'function' => [context.function_name, context.function_version, context.memory_limit_in_mb],
    'log' => [context.log_group_name, context.log_stream_name],
    'remaining' => context.get_remaining_time_in_millis,
    'greeting' => ENV['GREETING'],
  }
end

module Shop
  class Orders
    def self.handle(event:, context:)
      { 'class_handler' => event['n'] }
    end
  end
end
"""


def test_a_ruby_handler_gets_the_event_and_its_context(lam):
    create(lam, "rb-hello", runtime="ruby3.3", handler="app.handler", code=zip_bytes({"app.rb": APP}),
           Environment={"Variables": {"GREETING": "hi"}}, Timeout=5)
    r, body = invoke_json(lam, "rb-hello", {"n": 1}, LogType="Tail")
    assert "FunctionError" not in r, body
    rid = r["ResponseMetadata"]["RequestId"]
    assert body["event"] == {"n": 1} and body["request_id"] == rid
    assert body["arn"] == "arn:aws:lambda:us-east-1:000000000000:function:rb-hello"
    assert body["function"] == ["rb-hello", "$LATEST", "128"]
    assert body["log"][0] == "/aws/lambda/rb-hello" and body["log"][1].endswith(body["log"][1][-32:])
    assert 0 < body["remaining"] <= 5000
    assert body["greeting"] == "hi"
    assert 'ruby got {"n":1}' in log_of(r)
    # This host's Ruby is not 3.3 (Debian 12 has 3.1): the environment says so first.
    notice = SUBSTITUTE_NOTICE.match(log_of(r))
    version = subprocess.run(["ruby", "-e", "print RUBY_VERSION"], capture_output=True, text=True).stdout
    assert version.startswith("3.3.") or (notice and notice.group(1, 2) == ("ruby3.3", version)), log_of(r)
    # A class method names its module and class.
    create(lam, "rb-class", runtime="ruby3.2", handler="app.Shop::Orders.handle", code=zip_bytes({"app.rb": APP}))
    assert invoke_json(lam, "rb-class", {"n": 7})[1] == {"class_handler": 7}


def test_ruby_errors_have_aws_shape(lam):
    create(lam, "rb-errors", runtime="ruby3.4", handler="app.handler", code=zip_bytes({"app.rb": APP}))
    r, body = invoke_json(lam, "rb-errors", {"fail": "no such order"}, LogType="Tail")
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Function<ArgumentError>" and body["errorMessage"] == "no such order"
    assert body["stackTrace"][0].startswith("/var/task/app.rb:6:in ")
    assert not any("bootstrap.rb" in f for f in body["stackTrace"])
    assert "Error raised from handler method" in log_of(r)
    # A handler that cannot be loaded fails its init, in AWS's words.
    create(lam, "rb-missing", runtime="ruby3.3", handler="nope.handler", code=zip_bytes({"app.rb": APP}))
    r, body = invoke_json(lam, "rb-missing", {})
    assert r["FunctionError"] == "Unhandled"
    assert (body["errorType"], body["errorMessage"]) == ("Init<LoadError>", "cannot load such file -- /var/task/nope")
    create(lam, "rb-nomethod", runtime="ruby3.3", handler="app.absent", code=zip_bytes({"app.rb": APP}))
    r, body = invoke_json(lam, "rb-nomethod", {})
    assert body["errorType"] == "Init<NameError>" and "absent" in body["errorMessage"]


def test_ruby_layers_and_timeouts(lam):
    layer = lam.publish_layer_version(
        LayerName="rb-lib", Content={"ZipFile": zip_bytes({"ruby/lib/greeter.rb": "module Greeter\n"
                                                           "  def self.greet(n) = \"hello #{n}\"\nend\n"})},
        CompatibleRuntimes=["ruby3.3"])["LayerVersionArn"]
    code = "require 'greeter'\ndef handler(event:, context:) = { 'greeting' => Greeter.greet(event['name']) }\n"
    create(lam, "rb-layer", runtime="ruby3.3", handler="fn.handler", code=zip_bytes({"fn.rb": code}), Layers=[layer])
    assert invoke_json(lam, "rb-layer", {"name": "ruby"})[1] == {"greeting": "hello ruby"}

    create(lam, "rb-slow", runtime="ruby3.3", handler="app.handler", code=zip_bytes({"app.rb": APP}), Timeout=1)
    r, body = invoke_json(lam, "rb-slow", {"sleep": 5})
    rid = r["ResponseMetadata"]["RequestId"]
    assert r["FunctionError"] == "Unhandled"
    assert body == {"errorType": "Sandbox.Timedout",
                    "errorMessage": f"RequestId: {rid} Error: Task timed out after 1.00 seconds"}
    # The next invocation starts afresh.
    assert json.loads(json.dumps(invoke_json(lam, "rb-slow", {"n": 2})[1]))["event"] == {"n": 2}


GEMSPEC = """Gem::Specification.new do |s|
  s.name = 'shouter'
  s.version = '1.0.0'
  s.summary = 'shouts'
  s.authors = ['lamina']
  s.files = ['lib/shouter.rb']
  s.require_paths = ['lib']
end
"""


def test_ruby_gems_from_a_layer_and_out_of_memory(lam):
    # A gem installed in a layer's ruby/gems/<version>, as `bundle install --path` lays it out.
    gems = "ruby/gems/3.3.0"
    layer = lam.publish_layer_version(LayerName="rb-gems", Content={"ZipFile": zip_bytes({
        f"{gems}/specifications/shouter-1.0.0.gemspec": GEMSPEC,
        f"{gems}/gems/shouter-1.0.0/lib/shouter.rb": "module Shouter\n  def self.shout(s) = s.upcase + '!'\nend\n",
    })})["LayerVersionArn"]
    code = ("require 'shouter'\ndef handler(event:, context:)\n"
            "  { 'shout' => Shouter.shout(event['word']), 'from' => Gem.loaded_specs['shouter'].full_gem_path }\nend\n")
    create(lam, "rb-gem", runtime="ruby3.3", handler="fn.handler", code=zip_bytes({"fn.rb": code}), Layers=[layer])
    r, body = invoke_json(lam, "rb-gem", {"word": "gem"})
    assert body == {"shout": "GEM!", "from": f"/opt/{gems}/gems/shouter-1.0.0"}, body
    # Past its memory the environment is stopped, in AWS's words, and the next runs afresh.
    hog = "def handler(event:, context:)\n  hoard = []\n  loop { hoard << ('x' * (1 << 20)) } if event['hoard']\n  'fine'\nend\n"
    create(lam, "rb-hog", runtime="ruby3.3", handler="fn.handler", code=zip_bytes({"fn.rb": hog}), MemorySize=128)
    r, body = invoke_json(lam, "rb-hog", {"hoard": True}, LogType="Tail")
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory", body
    assert "Error Type: Runtime.OutOfMemory" in log_of(r)
    assert invoke_json(lam, "rb-hog", {})[1] == "fine"
