# Lamina's Ruby runtime client.
#
# Speaks the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API) and calls the handler named by
# _HANDLER ("file.method" or "file.Module::Class.method") with AWS's
# `handler(event:, context:)` contract. Standard library only (socket and json), so that
# nothing has to be installed for a function to run.
require 'json'
require 'socket'

module LaminaRuntime
  PREFIX = '/2018-06-01/runtime'

  # One keep-alive HTTP/1.1 connection to the Runtime API, reopened if it drops.
  class Connection
    def initialize(address)
      @host, _, port = address.rpartition(':')
      @port = Integer(port)
      @sock = nil
    end

    def request(method, path, body = '', headers = {})
      2.times do |attempt|
        begin
          connect if @sock.nil?
          return exchange(method, path, body, headers)
        rescue SystemCallError, IOError
          close
          raise if attempt == 1
        end
      end
    end

    private

    def connect
      @sock = TCPSocket.new(@host, @port)
      @sock.setsockopt(Socket::IPPROTO_TCP, Socket::TCP_NODELAY, 1)
    end

    def close
      @sock&.close
    rescue IOError
      nil
    ensure
      @sock = nil
    end

    def exchange(method, path, body, headers)
      body = body.b
      head = +"#{method} #{PREFIX}#{path} HTTP/1.1\r\nHost: #{@host}:#{@port}\r\n"
      headers.each { |k, v| head << "#{k}: #{v}\r\n" }
      head << "Content-Length: #{body.bytesize}\r\n\r\n"
      @sock.write(head.b + body)
      status_line = read_line
      raise IOError, 'runtime API closed the connection' if status_line.nil?

      status = status_line.split(' ', 3)[1].to_i
      response_headers = {}
      while (line = read_line) && !line.empty?
        k, v = line.split(':', 2)
        response_headers[k.strip.downcase] = v.to_s.strip
      end
      data = if response_headers['transfer-encoding'].to_s.downcase == 'chunked'
               read_chunked
             else
               read_exactly(response_headers.fetch('content-length', '0').to_i)
             end
      close if response_headers['connection'].to_s.downcase == 'close'
      [status, response_headers, data]
    end

    def read_line
      line = @sock.gets("\r\n")
      line&.chomp("\r\n")
    end

    def read_exactly(n)
      return ''.b if n.zero?

      data = @sock.read(n)
      raise IOError, 'runtime API closed the connection' if data.nil? || data.bytesize < n

      data
    end

    def read_chunked
      data = ''.b
      loop do
        size = read_line.to_s.split(';').first.to_i(16)
        if size.zero?
          read_line
          return data
        end
        data << read_exactly(size)
        read_exactly(2)
      end
    end
  end

  # The context object AWS passes as the handler's `context:`.
  class LambdaContext
    attr_reader :aws_request_id, :invoked_function_arn, :log_group_name, :log_stream_name,
                :function_name, :memory_limit_in_mb, :function_version, :identity,
                :client_context, :deadline_ms

    def initialize(headers)
      @aws_request_id = headers['lambda-runtime-aws-request-id']
      @invoked_function_arn = headers['lambda-runtime-invoked-function-arn']
      @deadline_ms = headers['lambda-runtime-deadline-ms'].to_i
      @log_group_name = ENV['AWS_LAMBDA_LOG_GROUP_NAME']
      @log_stream_name = ENV['AWS_LAMBDA_LOG_STREAM_NAME']
      @function_name = ENV['AWS_LAMBDA_FUNCTION_NAME']
      @memory_limit_in_mb = ENV['AWS_LAMBDA_FUNCTION_MEMORY_SIZE']
      @function_version = ENV['AWS_LAMBDA_FUNCTION_VERSION']
      identity = headers['lambda-runtime-cognito-identity']
      @identity = identity && JSON.parse(identity)
      client_context = headers['lambda-runtime-client-context']
      @client_context = client_context && JSON.parse(client_context)
    end

    def get_remaining_time_in_millis
      [@deadline_ms - (Process.clock_gettime(Process::CLOCK_REALTIME) * 1000).to_i, 0].max
    end
  end

  # A handler that could not be loaded: AWS names the phase and the exception's class.
  class InitFailure < StandardError
    attr_reader :doc

    def initialize(doc)
      super(doc['errorMessage'])
      @doc = doc
    end
  end

  module_function

  # AWS's error document: `Function<Class>` (or `Init<Class>`), the message, and the
  # function's own frames (never the runtime's).
  def error_doc(error, phase)
    frames = (error.backtrace || []).reject { |f| f.start_with?(__FILE__) }
    { 'errorMessage' => error.message, 'errorType' => "#{phase}<#{error.class}>", 'stackTrace' => frames }
  end

  # The error as the function's log shows it: what failed, then the document.
  def log_error(what, doc)
    $stdout.puts("#{what}\r#{JSON.pretty_generate(doc).gsub("\n", "\r")}")
  end

  def post_error(conn, path, doc)
    conn.request('POST', path, JSON.generate(doc),
                 'Content-Type' => 'application/json',
                 'Lambda-Runtime-Function-Error-Type' => doc['errorType'])
  end

  # The handler named by _HANDLER, with the package and its layers on the load path.
  def load_handler
    task_root = ENV.fetch('LAMBDA_TASK_ROOT', '/var/task')
    opt = ENV.fetch('LAMINA_OPT_DIR', '/opt')
    ["#{opt}/ruby/lib", task_root].each { |p| $LOAD_PATH.unshift(p) unless $LOAD_PATH.include?(p) }
    spec = ENV.fetch('_HANDLER', '')
    file, _, target = spec.partition('.')
    if file.empty? || target.empty?
      raise InitFailure, { 'errorMessage' => "Bad handler #{spec}, must be in the form of FILENAME.METHOD or FILENAME.CLASS.METHOD",
                           'errorType' => 'Init<ArgumentError>', 'stackTrace' => [] }
    end
    begin
      require File.join(task_root, file)
    rescue ScriptError, StandardError => e
      raise InitFailure, error_doc(e, 'Init')
    end
    owner_name, _, method_name = target.rpartition('.')
    owner = owner_name.empty? ? Object.new : Object.const_get(owner_name)
    owner.method(method_name.to_sym)
  rescue NameError => e
    raise InitFailure, error_doc(e, 'Init')
  end

  # Started ahead of its function (LAMINA_PRESTART=1): the function's environment arrives
  # on stdin when the environment is claimed.
  def await_function
    go = JSON.parse($stdin.read)
    ENV.replace(go['env'])
    Dir.chdir(go['cwd'])
    # RubyGems read GEM_PATH when the interpreter started, before the function's.
    Gem.clear_paths if defined?(Gem)
  end

  def run
    await_function if ENV['LAMINA_PRESTART'] == '1'
    $stdout.sync = true
    $stderr.sync = true
    conn = Connection.new(ENV.fetch('AWS_LAMBDA_RUNTIME_API'))
    handler = begin
      load_handler
    rescue InitFailure => e
      log_error('Init error when loading handler', e.doc)
      post_error(conn, '/init/error', e.doc)
      exit(1)
    end
    loop do
      status, headers, body = conn.request('GET', '/invocation/next')
      exit(0) unless status == 200
      request_id = headers['lambda-runtime-aws-request-id']
      ENV['_X_AMZN_TRACE_ID'] = headers.fetch('lambda-runtime-trace-id', '')
      begin
        event = body.empty? ? {} : JSON.parse(body.force_encoding(Encoding::UTF_8))
        result = handler.call(event: event, context: LambdaContext.new(headers))
        out = JSON.generate(result, quirks_mode: true)
      rescue StandardError, ScriptError, SystemStackError => e
        doc = error_doc(e, 'Function')
        log_error('Error raised from handler method', doc)
        post_error(conn, "/invocation/#{request_id}/error", doc)
        next
      end
      begin
        conn.request('POST', "/invocation/#{request_id}/response", out, 'Content-Type' => 'application/json')
      rescue SystemCallError, IOError
        # The Runtime API stops reading an answer over its size limit and records it as
        # too large; the runtime goes on to the next invocation, as AWS's clients do.
        nil
      end
    end
  end
end

LaminaRuntime.run if $PROGRAM_NAME == __FILE__
