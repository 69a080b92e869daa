//! Starting an environment: its code and layers unpacked, the process tree launched
//! with AWS's environment variables, its output captured and its Runtime API served.

use super::*;

impl Inner {
    /// Starts an environment for `f`: its code and layers unpacked, its process tree
    /// launched with AWS's environment, its output captured and its Runtime API served.
    pub(crate) async fn launch(&self, f: &Function, provisioned: bool) -> Result<Environment, LaunchFailure> {
        let (entry, mounts) = self.unpack(f).await?;
        let id = uuid::Uuid::new_v4().simple().to_string();
        let layout = self.sandbox.layout(&id, &mounts);
        let substitute = entry.substitute().map(str::to_owned);
        let Command { program, args, prestart } = command(f, entry, &mounts, &layout)?;
        // Environments with a network of their own listen for their Runtime API inside it;
        // the others share the host's loopback, where Lamina listens for them.
        let host_listener = match self.sandbox.isolated_runtime_api() {
            Some(_) => None,
            None => Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| internal("runtime API", &e))?),
        };
        let api_address = match (&host_listener, self.sandbox.isolated_runtime_api()) {
            (Some(l), _) => l.local_addr().map_err(|e| internal("runtime API", &e))?.to_string(),
            (None, Some(inside)) => inside.to_owned(),
            (None, None) => unreachable!("one of the two is set"),
        };
        let date = time::OffsetDateTime::now_utc();
        let log_stream =
            format!("{:04}/{:02}/{:02}/[{}]{id}", date.year(), u8::from(date.month()), date.day(), f.version_label());
        let (issued, credentials) = self.issue(f);
        let env = self.variables(f, provisioned, &layout, api_address, &log_stream, issued);
        let limits = Limits { memory_mb: f.config.memory_mb, ephemeral_mb: f.config.ephemeral_mb };
        let spec = LaunchSpec { id, program, args, env, mounts, limits, prestart };
        let like = spec.clone();
        let launched = Instant::now();
        let mut process = self.start_process(spec).await?;
        // What the launch used is readied again for the next one, off this launch's path.
        let sandbox = self.sandbox.clone();
        tokio::task::spawn_blocking(move || sandbox.prepare(&like));
        let output =
            process.take_output().ok_or_else(|| LaunchFailure::Internal("the sandbox gave no output".into()))?;
        let destination = self.config.log_sink.clone().map(|sink| {
            let id = LogStreamId {
                account: f.account.clone(),
                region: f.region.clone(),
                group: f.log_group(),
                stream: log_stream.clone(),
            };
            (sink, id)
        });
        let logs = logs::LogCapture::start(output, destination).map_err(|e| internal("log pipe", &e))?;
        // The environment's first line says so when its interpreter is not the runtime's
        // own version.
        if let Some(line) = &substitute {
            logs.line(line);
        }
        // And when the SDK AWS's runtime carries is not there (not installed yet, or the
        // registries are out of reach).
        if let Some(line) = self.missing_sdk(f.config.runtime) {
            logs.line(&line);
        }
        let (api, init_error) = serve_runtime_api(host_listener, &mut process).await?;
        self.started.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(function = %f.name, pid = process.pid(), "environment started");
        Ok(Environment {
            revision: f.revision_id.clone(),
            last_used: launched,
            api,
            init_error: Some(init_error),
            process,
            logs,
            launched,
            initialized: false,
            memory_mb: f.config.memory_mb,
            max_memory_mb: 0,
            init_timeout: self.config.init_timeout,
            frozen: false,
            provisioned,
            _credentials: credentials,
            deadline: tokio::time::Instant::now(),
        })
    }

    /// The notice for an environment whose runtime carries the AWS SDK on AWS (Python,
    /// Node.js) while the SDK layer lacks it.
    fn missing_sdk(&self, runtime: model::Runtime) -> Option<String> {
        let sdk = self.config.runtimes.sdk.as_deref()?;
        let (python, node) = crate::sdk::status(sdk, &[]);
        let missing = match runtime.family() {
            model::RuntimeFamily::Python if !python => "boto3",
            model::RuntimeFamily::Node if !node => "the AWS SDK v3",
            _ => return None,
        };
        Some(format!(
            "Lamina: {missing} is not in this host's SDK layer ({}) yet; `lamina install-sdk` installs it from the \
             package registries",
            sdk.display()
        ))
    }

    /// The runtime's entry and the environment's mounts: the function's package and its
    /// layers, unpacked (once) off the async workers.
    pub(crate) async fn unpack(&self, f: &Function) -> Result<(runtimes::Entry, Mounts), LaunchFailure> {
        let resolver = self.resolver.clone();
        let runtime = f.config.runtime;
        let runtime_dir = self.config.runtime_dir.clone();
        let (entry, shared) = tokio::task::spawn_blocking(move || {
            let entry = resolver.entry(runtime).and_then(|entry| match entry {
                // Lamina's Java client, compiled on first use.
                runtimes::Entry::Jvm { java, javac, substitute, .. } => {
                    let classes = Some(resolver.java_client(&runtime_dir, javac.as_deref())?);
                    Ok(runtimes::Entry::Jvm { java, javac, classes, substitute })
                }
                other => Ok(other),
            });
            (entry, resolver.shared_roots())
        })
        .await
        .map_err(|e| internal("resolving the runtime", &e))?;
        let entry = entry.map_err(|u| LaunchFailure::Unavailable(u.0))?;
        let code = self.code.clone();
        let hex = f.code.sha256_hex.clone();
        let layers: Vec<String> = f.config.layers.iter().map(|l| l.sha256_hex.clone()).collect();
        let (task, opt) = tokio::task::spawn_blocking(move || {
            let task = code.extracted(&hex)?;
            let opt = if layers.is_empty() { None } else { Some(code.merged(&layers)?) };
            Ok::<_, store::CodeError>((task, opt))
        })
        .await
        .map_err(|e| internal("extracting code", &e))?
        .map_err(|e| internal("extracting code", &e))?;
        Ok((entry, Mounts { task, runtime: self.config.runtime_dir.clone(), opt, shared }))
    }

    /// Credentials for an environment of `f` (key id, secret, session token), with their
    /// lease when they were issued.
    fn issue(&self, f: &Function) -> ((String, String, String), Option<CredentialLease>) {
        match &self.config.credentials {
            Some(issuer) => {
                let issued = issuer.issue(f);
                let lease = CredentialLease { issuer: issuer.clone(), access_key: issued.0.clone() };
                (issued, Some(lease))
            }
            None => ((f.account.clone(), "lamina".into(), "lamina".into()), None),
        }
    }

    /// The environment variables AWS gives a function's runtime (and its own, last), with
    /// the credentials given. A name given twice (a function's own variable named like one
    /// of AWS's) keeps its last value, the function's, in its first place.
    pub(crate) fn variables(
        &self,
        f: &Function,
        provisioned: bool,
        layout: &sandbox::Layout,
        api_address: String,
        log_stream: &str,
        (key_id, secret, token): (String, String, String),
    ) -> Vec<(String, String)> {
        let c = &f.config;
        let task_root = layout.task_root.display().to_string();
        let opt = layout.opt_dir.display().to_string();
        let initialization = if provisioned { "provisioned-concurrency" } else { "on-demand" };
        let mut env: Vec<(String, String)> = [
            ("AWS_LAMBDA_FUNCTION_NAME", f.name.clone()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", c.memory_mb.to_string()),
            ("AWS_LAMBDA_FUNCTION_VERSION", f.version_label()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", initialization.to_owned()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", f.log_group()),
            ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream.to_owned()),
            ("AWS_LAMBDA_RUNTIME_API", api_address),
            ("AWS_REGION", f.region.clone()),
            ("AWS_DEFAULT_REGION", f.region.clone()),
            ("AWS_ACCESS_KEY_ID", key_id),
            ("AWS_SECRET_ACCESS_KEY", secret),
            ("AWS_SESSION_TOKEN", token),
            ("AWS_ENDPOINT_URL", self.config.endpoint_url.clone()),
            ("_HANDLER", c.handler.clone()),
            ("LAMBDA_TASK_ROOT", task_root.clone()),
            ("LAMBDA_RUNTIME_DIR", layout.runtime_dir.display().to_string()),
            ("TZ", ":UTC".to_owned()),
            ("LANG", "en_US.UTF-8".to_owned()),
            ("PATH", format!("/usr/local/bin:/usr/bin:/bin:{opt}/bin")),
            ("LD_LIBRARY_PATH", format!("/lib64:/usr/lib64:{task_root}:{task_root}/lib:{opt}/lib")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        // Where layers are, for Lamina's clients, when it is not `/opt` (unsandboxed).
        if layout.opt_dir != std::path::Path::new("/opt") {
            env.push(("LAMINA_OPT_DIR".into(), opt.clone()));
        }
        // AWS's java8.al2 and java11 also give the credentials under their older names (its
        // later Java runtimes do not).
        if matches!(c.runtime.as_str(), "java8.al2" | "java11") {
            let key = env.iter().find(|(k, _)| k == "AWS_ACCESS_KEY_ID").map(|(_, v)| v.clone()).unwrap_or_default();
            let secret =
                env.iter().find(|(k, _)| k == "AWS_SECRET_ACCESS_KEY").map(|(_, v)| v.clone()).unwrap_or_default();
            env.push(("AWS_ACCESS_KEY".into(), key));
            env.push(("AWS_SECRET_KEY".into(), secret));
        }
        // The JSON log format, as AWS tells the runtimes.
        if c.logging.json {
            env.push(("AWS_LAMBDA_LOG_FORMAT".into(), "JSON".into()));
            if let Some(level) = &c.logging.application_level {
                env.push(("AWS_LAMBDA_LOG_LEVEL".into(), level.clone()));
            }
        }
        if let Some(exec_env) = c.runtime.execution_env() {
            env.push(("AWS_EXECUTION_ENV".into(), exec_env));
        }
        // The SDK layer, after the function's own packages and its layers.
        let sdk = self.resolver.sdk();
        let runtime_dir = layout.runtime_dir.display().to_string();
        if c.runtime.family() == model::RuntimeFamily::Node {
            // AWS's: a layer's node_modules for this Node major version, then any, then the
            // runtime's (the SDK: `node_modules` in the runtime directory leads to it).
            let major = c.runtime.as_str().trim_start_matches("nodejs").trim_end_matches(".x");
            env.push((
                "NODE_PATH".into(),
                format!(
                    "{opt}/nodejs/node{major}/node_modules:{opt}/nodejs/node_modules:{runtime_dir}/node_modules:\
                     {runtime_dir}:{task_root}"
                ),
            ));
        }
        if c.runtime.family() == model::RuntimeFamily::Python {
            env.push(("PYTHONPATH".into(), runtime_dir.clone()));
            if let Some(sdk) = sdk {
                env.push(("LAMINA_SDK_PYTHON".into(), crate::sdk::python_dir(sdk).display().to_string()));
            }
        }
        // AWS starts these runtimes from a shell script in the task directory.
        if matches!(
            c.runtime.family(),
            model::RuntimeFamily::Python | model::RuntimeFamily::Node | model::RuntimeFamily::Ruby
        ) {
            env.push(("PWD".into(), task_root.clone()));
            env.push(("SHLVL".into(), "0".into()));
        }
        if c.runtime.family() == model::RuntimeFamily::Ruby {
            // As on AWS: the package and a layer's `ruby/lib` on the load path, the
            // package's bundled gems and a layer's `ruby/gems` on the gem path.
            let version = format!("{}.0", c.runtime.as_str().trim_start_matches("ruby"));
            env.push(("GEM_HOME".into(), runtime_dir.clone()));
            env.push(("RUBYLIB".into(), format!("{task_root}:{opt}/ruby/lib")));
            env.push((
                "GEM_PATH".into(),
                format!("{task_root}/vendor/bundle/ruby/{version}:{opt}/ruby/gems/{version}"),
            ));
        }
        // Functions trust Lamina's authority, so that the `https://` endpoints AWS's
        // examples build (a WebSocket API's `@connections`) answer them. AWS's environments
        // have no AWS_CA_BUNDLE or SSL_CERT_FILE: the one difference in their variables.
        if self.config.trusted_ca.is_some() {
            let dir = &layout.runtime_dir;
            for (name, file) in
                [("AWS_CA_BUNDLE", CA_BUNDLE), ("SSL_CERT_FILE", CA_BUNDLE), ("NODE_EXTRA_CA_CERTS", LAMINA_CA)]
            {
                if !c.environment.as_ref().is_some_and(|e| e.contains_key(name)) {
                    env.push((name.into(), dir.join(file).display().to_string()));
                }
            }
        }
        for (k, v) in c.environment.iter().flatten() {
            match env.iter_mut().find(|(name, _)| name == k) {
                Some((_, value)) => value.clone_from(v),
                None => env.push((k.clone(), v.clone())),
            }
        }
        env
    }

    /// Launches the process tree. Launching may format a /tmp image or spawn helpers, so
    /// it runs off the async workers; a program that cannot be executed is the function's
    /// failure, in AWS's words.
    pub(crate) async fn start_process(&self, spec: LaunchSpec) -> Result<sandbox::Sandboxed, LaunchFailure> {
        let sandbox = self.sandbox.clone();
        let launched =
            tokio::task::spawn_blocking(move || sandbox.launch(spec)).await.map_err(|e| internal("sandbox", &e))?;
        match launched {
            Ok(p) => Ok(p),
            Err(SandboxError::Spawn { program, source }) => {
                let why = match source.kind() {
                    std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
                    std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
                    _ => source.to_string(),
                };
                Err(LaunchFailure::Entrypoint(format!("fork/exec {program}: {why}")))
            }
            Err(e @ SandboxError::Setup(_)) => Err(internal("sandbox", &e)),
        }
    }
}

pub(crate) fn internal(what: &str, e: &dyn std::fmt::Display) -> LaunchFailure {
    LaunchFailure::Internal(format!("{what}: {e}"))
}

/// The program and arguments an environment runs: Lamina's runtime client under its
/// interpreter, or the function's (or a layer's) `bootstrap`.
/// What an environment of a function executes.
pub(crate) struct Command {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<String>,
    /// Whether the sandbox may have started it ahead, before it knew the function.
    pub(crate) prestart: bool,
}

/// The program an environment of `f` starts, under its exec wrapper if it has one.
pub(crate) fn command(
    f: &Function,
    entry: runtimes::Entry,
    mounts: &Mounts,
    layout: &sandbox::Layout,
) -> Result<Command, LaunchFailure> {
    let wrapper = exec_wrapper(f, &entry, layout);
    // A wrapped runtime starts under its wrapper: no runtime can be started ahead for it.
    let prestart = wrapper.is_none()
        && matches!(&entry, runtimes::Entry::Client { script: "bootstrap.py" | "bootstrap.rb" | "bootstrap.js", .. });
    let (mut program, mut args) = entrypoint(entry, mounts, layout, f.config.memory_mb)?;
    if let Some(wrapper) = wrapper {
        args.insert(0, program.display().to_string());
        program = wrapper;
    }
    Ok(Command { program, args, prestart })
}

pub(crate) fn entrypoint(
    entry: runtimes::Entry,
    mounts: &Mounts,
    layout: &sandbox::Layout,
    memory_mb: u32,
) -> Result<(PathBuf, Vec<String>), LaunchFailure> {
    match entry {
        runtimes::Entry::Jvm { java, classes, .. } => {
            let classes = layout.runtime_dir.join(classes.unwrap_or_default());
            Ok((java, jvm_args(&classes, layout, memory_mb)))
        }
        runtimes::Entry::Client { interpreter, flags, script, .. } => {
            let mut args: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
            if script == "bootstrap.js" {
                args.extend(node_memory_args(memory_mb));
            }
            args.push(layout.runtime_dir.join(script).display().to_string());
            Ok((interpreter, args))
        }
        runtimes::Entry::Bootstrap if mounts.task.join("bootstrap").is_file() => {
            Ok((layout.task_root.join("bootstrap"), Vec::new()))
        }
        runtimes::Entry::Bootstrap if mounts.opt.as_ref().is_some_and(|o| o.join("bootstrap").is_file()) => {
            Ok((layout.opt_dir.join("bootstrap"), Vec::new()))
        }
        runtimes::Entry::Bootstrap => Err(LaunchFailure::Entrypoint(
            "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]".to_owned(),
        )),
    }
}

/// V8's heap sizes, as AWS's Node.js runtimes start Node: a tenth of the function's
/// memory for the young generation (half of it for each semi-space), the rest for the old.
/// Given on the command line, the heap never depends on the memory limit Node finds when
/// it starts (a runtime started ahead runs under a limit that is not yet its function's).
fn node_memory_args(memory_mb: u32) -> [String; 2] {
    let new_space = memory_mb / 10;
    [format!("--max-semi-space-size={}", new_space / 2), format!("--max-old-space-size={}", memory_mb - new_space)]
}

/// `AWS_LAMBDA_EXEC_WRAPPER`: a managed runtime (not a custom one) starts as the wrapper
/// script with the runtime's command line as its arguments, as AWS's runtimes start it. The
/// path names a file inside the environment (`/var/task/…`, `/opt/…`).
fn exec_wrapper(f: &Function, entry: &runtimes::Entry, layout: &sandbox::Layout) -> Option<PathBuf> {
    if matches!(entry, runtimes::Entry::Bootstrap) {
        return None;
    }
    let wrapper = f.config.environment.as_ref()?.get("AWS_LAMBDA_EXEC_WRAPPER")?;
    let wrapper = std::path::Path::new(wrapper);
    for (inside, at) in [("/var/task", &layout.task_root), ("/opt", &layout.opt_dir)] {
        if let Ok(rest) = wrapper.strip_prefix(inside) {
            return Some(at.join(rest));
        }
    }
    Some(wrapper.to_owned())
}

/// The JVM's arguments, as AWS's Java runtimes start it: the heap at 85% of the function's
/// memory, metaspace at 10% and the code cache at 5%, the serial collector and the C1
/// compiler only (fast start-up), then the classpath: the runtime, the package's classes
/// and its `lib/` jars, and a layer's `java/lib` jars.
fn jvm_args(classes: &std::path::Path, layout: &sandbox::Layout, memory_mb: u32) -> Vec<String> {
    let kb = u64::from(memory_mb) * 1024;
    let (task, opt) = (layout.task_root.display(), layout.opt_dir.display());
    vec![
        format!("-XX:MaxHeapSize={}k", kb * 85 / 100),
        format!("-XX:MaxMetaspaceSize={}k", kb * 10 / 100),
        format!("-XX:ReservedCodeCacheSize={}k", kb * 5 / 100),
        "-XX:+UseSerialGC".into(),
        "-Xshare:auto".into(),
        "-XX:+TieredCompilation".into(),
        "-XX:TieredStopAtLevel=1".into(),
        "-XX:-UsePerfData".into(),
        "-Djava.net.preferIPv4Stack=true".into(),
        "-cp".into(),
        format!("{}:{task}:{task}/lib/*:{opt}/java/lib/*", classes.display()),
        "lamina.runtime.Bootstrap".into(),
    ]
}

/// Serves the environment's Runtime API: on the shared loopback, admitting only the
/// environment's own uid (when the sandbox gives it one); inside the environment's own
/// network, on the socket the sandbox handed over, where only it can connect. The
/// runtime's first connection waits in the backlog meanwhile.
pub(crate) async fn serve_runtime_api(
    host_listener: Option<tokio::net::TcpListener>,
    process: &mut sandbox::Sandboxed,
) -> Result<(RuntimeApi, tokio::sync::oneshot::Receiver<runtime_api::InitError>), LaunchFailure> {
    let (listener, admit): (_, runtime_api::Admission) = match host_listener {
        Some(listener) => match process.uid() {
            Some(uid) => {
                (listener, Arc::new(move |local, peer| sandbox::tcp_peer_uid(local, peer).is_ok_and(|u| u == uid)))
            }
            None => (listener, Arc::new(|_, _| true)),
        },
        None => match process.runtime_api_listener().await {
            Ok(Some(listener)) => (listener, Arc::new(|_, _| true)),
            Ok(None) => return Err(LaunchFailure::Internal("the sandbox gave no Runtime API socket".into())),
            Err(e) => return Err(internal("receiving the Runtime API socket", &e)),
        },
    };
    RuntimeApi::serve(listener, admit).map_err(|e| internal("runtime API", &e))
}
