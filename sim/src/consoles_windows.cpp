// The model's consoles, process groups and console control events; top-level windows, message
// queues, registered messages and the WH_CBT hook (the GUI actor); taskkill.
// Each rule is written beside the claim ID it implements, as in model.cpp. The rules are the
// documented Windows behaviour ("Terminating a Process", "Remote Process Termination", the
// Microsoft documentation and the console host's source quoted in docs/claims.json); where Wine
// 8.0 differs (docs/actors.md), a mutant plays Wine's part.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "termsuite/sim/model.hpp"

namespace termsuite::sim {

namespace {

constexpr std::uint32_t kBsfIgnoreCurrentTask = 0x2;  // BroadcastSystemMessage flags
constexpr std::uint32_t kBsfPostMessage = 0x10;
constexpr std::uint32_t kBsfForceIfHung = 0x20;
constexpr std::uint32_t kBsmApplications = 0x8;  // the recipients asked for (and reported back)
constexpr std::uint32_t kFirstRegisteredMessage = 0xC000;

constexpr int kHcbtCreateWnd = 3;  // WH_CBT codes the model produces
constexpr int kHcbtDestroyWnd = 4;
constexpr int kHcbtActivate = 5;
constexpr int kHcbtSetFocus = 9;

constexpr const char* kListenerTitle = "termsuite actor-gui listener";

// CTRL_CLOSE_EVENT and its kin (logoff, shutdown): after them the process does not go on.
bool is_close_type(std::uint32_t type) {
  return type == verbs::kCtrlCloseEvent || type == verbs::kCtrlLogoffEvent || type == verbs::kCtrlShutdownEvent;
}

std::string_view cbt_name(int code) {
  switch (code) {
    case kHcbtCreateWnd: return "create-window";
    case kHcbtDestroyWnd: return "destroy-window";
    case kHcbtActivate: return "activate";
    case kHcbtSetFocus: return "set-focus";
  }
  return "other";
}

std::string kind_text(const WindowObj& w) {
  switch (w.role) {
    case WindowObj::Role::listener: return "listener";
    case WindowObj::Role::console: return "console";
    case WindowObj::Role::window: break;
  }
  return std::string(gui_verbs::kind_name(w.kind));
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Consoles

// Every console has a window (GetConsoleWindow). The console host reports its creator (the root
// process) as the window's owner (GetWindowThreadProcessId): microsoft/terminal's
// SetConsoleWindowOwner. The other processes attached own no console window.
std::uint32_t Model::new_console(ObjectId root) {
  ConsoleObj c;
  c.id = next_console_++;
  c.root = root;
  c.hwnd = next_hwnd_;
  next_hwnd_ += 0x10;
  WindowObj w;
  w.hwnd = c.hwnd;
  w.role = WindowObj::Role::console;
  w.console = c.id;
  w.visible = true;
  w.title = fmt::format("console {}", c.id);
  windows_[w.hwnd] = w;
  consoles_[c.id] = c;
  log(fmt::format("console {} created (window {:#x})", c.id, c.hwnd));
  return c.id;
}

// A console lives while a process is attached to it and its window was not closed.
bool Model::console_alive(std::uint32_t id) const {
  auto it = consoles_.find(id);
  if (it == consoles_.end() || it->second.closed) return false;
  return std::any_of(processes_.begin(), processes_.end(), [&](const auto& entry) {
    const ProcessObj& p = entry.second;
    return p.console == id && (p.harness || p.state == RunState::running);
  });
}

bool Model::own_console(std::uint32_t pid) {
  auto it = client_ids_.find(pid);
  ProcessObj* p = it == client_ids_.end() ? nullptr : process_mut(it->second);
  if (!p) return false;
  if (p->console && console_alive(p->console)) return true;
  p->console = new_console(p->id);
  log(fmt::format("{} has console {} (its handler returns TRUE for every event)", describe(p->id), p->console));
  return true;
}

// ctrl.process-group: GenerateConsoleCtrlEvent takes CTRL_C_EVENT or CTRL_BREAK_EVENT only
// (ERROR_INVALID_PARAMETER otherwise), needs a console (ERROR_INVALID_HANDLE without one), and
// reaches the processes attached to the caller's console: all of them for group 0, else those
// whose process group id is `group` (none, if no process leads such a group).
std::uint32_t Model::generate_ctrl_event(std::uint32_t sender_pid, std::uint32_t type, std::uint32_t group) {
  if (type != verbs::kCtrlCEvent && type != verbs::kCtrlBreakEvent) return kErrorInvalidParameter;
  const ProcessObj* sender = process_by_pid(sender_pid);
  if (!sender || sender->console == 0 || !console_alive(sender->console)) return kErrorInvalidHandle;
  const std::uint32_t console = sender->console;
  std::vector<ObjectId> targets;
  for (const auto& [id, p] : processes_) {
    if (p.harness || p.state != RunState::running || p.console != console) continue;
    const bool in_group = p.group == group && (!is(Mutant::ctrl_group_leader_only) || p.pid == group);
    const bool everyone = group == 0 && (!is(Mutant::ctrl_zero_reaches_own_group) || p.group == sender->group);
    if (everyone || in_group || is(Mutant::ctrl_reaches_every_group)) targets.push_back(id);
  }
  log(fmt::format("{} generates {} for {} of console {}: {} process(es)", describe(sender->id),
                  verbs::ctrl_event_name(type), group ? fmt::format("group {}", group) : std::string("every process"),
                  console, targets.size()));
  for (ObjectId id : targets) deliver_ctrl(processes_.at(id), type);
  return 0;
}

// ctrl.handler-new-thread: the system delivers a console control event by creating a new thread
// in the process (KERNELBASE!CtrlRoutine), which calls the handlers, the last registered first,
// until one returns TRUE; when none does, the default handler runs (ctrl.default-handler-exits).
void Model::deliver_ctrl(ProcessObj& p, std::uint32_t type) {
  ObjectId nt = new_thread(p, nullptr, false);
  ThreadObj& ct = threads_.at(nt);
  push_thread_init(ct);
  ct.micros.push_back({Micro::Kind::ctrl_begin, "", {}, "", 0, type});
  log(fmt::format("{} created to deliver {}", describe(nt), verbs::ctrl_event_name(type)));
  // ctrl.close-event: a process may handle CTRL_CLOSE_EVENT for a while (SPI_GETHUNGAPPTIMEOUT,
  // 5000 ms: microsoft/terminal's doc/ConsoleCtrlEvent.md); then the system ends it, whatever its
  // handler is doing. Ctrl+C and Ctrl+Break have no timeout.
  if (is_close_type(type) && !p.close_deadline && !is(Mutant::close_event_survives_true) &&
      !is(Mutant::close_handler_runs_unbounded))
    p.close_deadline = now_ + kCloseTimeoutMs;
}

bool Model::run_ctrl_micro(ThreadObj& t) {
  ProcessObj& p = processes_.at(t.process);
  const Micro m = t.micros.front();
  t.micros.pop_front();
  const std::uint32_t type = m.code;
  switch (m.kind) {
    case Micro::Kind::ctrl_begin:
      // ctrl.default-handler-exits: the Ctrl+C ignore flag (SetConsoleCtrlHandler(NULL, TRUE), kept
      // in the process and read by CtrlRoutine when it starts) stops CTRL_C_EVENT only, before any
      // handler: Ctrl+Break and CTRL_CLOSE_EVENT still come through.
      // ctrl.ignore-concerns-ctrl-c: no handler at all runs for an ignored Ctrl+C.
      if (p.ignore_ctrl_c && type == verbs::kCtrlCEvent && is(Mutant::ctrl_ignore_spares_handlers)) {
        for (auto it = p.ctrl_handlers.rbegin(); it != p.ctrl_handlers.rend(); ++it)
          t.micros.push_back({Micro::Kind::ctrl_handler, "", {}, std::string(verbs::ctrl_mode_name(*it)), 0, type});
        return true;
      }
      if (p.ignore_ctrl_c && (type == verbs::kCtrlCEvent || is(Mutant::ctrl_ignore_blocks_every_event))) {
        log(fmt::format("{} ignores {}", describe(p.id), verbs::ctrl_event_name(type)));
        t.micros.clear();
        if (is_close_type(type)) p.close_deadline.reset();
        return true;
      }
      // ctrl.handler-new-thread: the handler list as it is now, the last registered first, all on
      // this one thread; then the default handler.
      if (is(Mutant::handlers_first_registered_first)) {
        for (auto it = p.ctrl_handlers.begin(); it != p.ctrl_handlers.end(); ++it)
          t.micros.push_back({Micro::Kind::ctrl_handler, "", {}, std::string(verbs::ctrl_mode_name(*it)), 0, type});
      } else {
        for (auto it = p.ctrl_handlers.rbegin(); it != p.ctrl_handlers.rend(); ++it)
          t.micros.push_back({Micro::Kind::ctrl_handler, "", {}, std::string(verbs::ctrl_mode_name(*it)), 0, type});
      }
      t.micros.push_back({Micro::Kind::ctrl_default, "", {}, "", 0, type});
      return true;
    case Micro::Kind::ctrl_handler: {
      const auto mode = verbs::parse_ctrl_mode(m.text).value_or(verbs::CtrlMode::ReturnFalse);
      const ThreadObj* main = p.threads.empty() ? nullptr : thread(p.threads.front());
      const std::uint32_t main_tid = main ? main->tid : 0;
      const bool on_main = is(Mutant::ctrl_handler_on_main_thread);
      emit(t, "ctrl-event", {{"type", type},
                             {"name", std::string(verbs::ctrl_event_name(type))},
                             {"thread", on_main ? main_tid : t.tid},
                             {"main_thread", main_tid},
                             {"known_thread", on_main},
                             {"mode", m.text}});
      switch (mode) {
        case verbs::CtrlMode::ReturnTrue:
          if (is(Mutant::ctrl_chain_ignores_true)) {
            std::erase_if(t.micros, [](const Micro& x) { return x.kind == Micro::Kind::ctrl_default; });
            t.micros.push_back({Micro::Kind::ctrl_done, "", {}, "", 0, type});
            break;
          }
          t.micros.clear();
          t.micros.push_back({Micro::Kind::ctrl_done, "", {}, "", 0, type});
          break;
        case verbs::CtrlMode::ReturnFalse: break;  // the next handler
        case verbs::CtrlMode::Exit:
          // "Remote Process Termination"'s choice.exe: the C runtime's exit() from the handler's thread.
          t.micros.clear();
          emit(t, "about-to-exit", {{"how", "exit"}, {"code", verbs::kCtrlExitCode}});
          push_process_exit(t, verbs::kCtrlExitCode, true);
          break;
        case verbs::CtrlMode::Hold:
          t.micros.clear();
          emit(t, "ctrl-handler-holding", {{"type", type}, {"deadline_ms", verbs::kCtrlHoldMs}});
          t.micros.push_back({Micro::Kind::hold, "", {}, "", verbs::kCtrlHoldMs});
          t.micros.push_back({Micro::Kind::emit, "ctrl-handler-returning",
                              {{"type", type}, {"result", "timeout"}, {"held_ms", verbs::kCtrlHoldMs}}, ""});
          t.micros.push_back({Micro::Kind::ctrl_done, "", {}, "", 0, type});
          break;
      }
      return true;
    }
    case Micro::Kind::ctrl_default:
      // ctrl.default-handler-exits: the default handler calls ExitProcess(STATUS_CONTROL_C_EXIT),
      // for every event type.
      t.micros.clear();
      log(fmt::format("no handler of {} returned TRUE: the default handler ends it", describe(p.id)));
      push_process_exit(t, is(Mutant::ctrl_default_exits_zero) ? 0 : verbs::kStatusControlCExit, false);
      return true;
    case Micro::Kind::ctrl_done:
      // ctrl.close-event: after CTRL_CLOSE_EVENT the process ends when the handler returns, TRUE
      // included ("in every case the process terminates"). After Ctrl+C or Ctrl+Break handled,
      // CtrlRoutine returns and its thread ends; the process goes on.
      t.micros.clear();
      if (is_close_type(type) && !is(Mutant::close_event_survives_true)) {
        log(fmt::format("a handler of {} returned TRUE for {}: the process ends", describe(p.id),
                        verbs::ctrl_event_name(type)));
        push_process_exit(t, verbs::kStatusControlCExit, false);
      }
      return true;
    default: break;
  }
  return true;
}

// ctrl.close-event: a process still running when its close timeout expires is ended by the
// system (a termination: its handler is cut short), with STATUS_CONTROL_C_EXIT.
bool Model::check_close_deadlines() {
  std::vector<ObjectId> due;
  for (const auto& [id, p] : processes_)
    if (p.state == RunState::running && p.close_deadline && *p.close_deadline <= now_) due.push_back(id);
  for (ObjectId id : due) terminate_process(id, verbs::kStatusControlCExit, "the console's close timeout");
  return !due.empty();
}

// ctrl.close-event: closing a console (WM_CLOSE to its window) sends CTRL_CLOSE_EVENT to every
// process attached to it, each on a new thread. The harness's own handler returns TRUE; the
// harness is not modelled as ending.
void Model::close_console(std::uint32_t id) {
  auto& c = consoles_.at(id);
  c.closed = true;
  windows_.erase(c.hwnd);
  std::vector<ObjectId> attached;
  for (const auto& [pid, p] : processes_)
    if (!p.harness && p.state == RunState::running && p.console == id) attached.push_back(pid);
  log(fmt::format("console {} closed: CTRL_CLOSE_EVENT to {} process(es)", id, attached.size()));
  for (ObjectId pid : attached) deliver_ctrl(processes_.at(pid), verbs::kCtrlCloseEvent);
}

void Model::console_verb(ThreadObj& t, const verbs::Step& s) {
  ProcessObj& p = processes_.at(t.process);
  switch (s.op) {
    case verbs::Op::CtrlHandler:
      // ctrl.handler-registered-twice: each registration is an entry of the list, a routine
      // registered twice is in it twice (and called twice).
      if (!is(Mutant::ctrl_handler_registered_once) ||
          std::find(p.ctrl_handlers.begin(), p.ctrl_handlers.end(), s.ctrl) == p.ctrl_handlers.end())
        p.ctrl_handlers.push_back(s.ctrl);
      emit(t, "ctrl-handler-installed", {{"mode", std::string(verbs::ctrl_mode_name(s.ctrl))}});
      break;
    case verbs::Op::IgnoreCtrlC:
      p.ignore_ctrl_c = true;
      emit(t, "ignoring-ctrl-c");
      break;
    case verbs::Op::AcceptCtrlC:
      p.ignore_ctrl_c = false;
      emit(t, "accepting-ctrl-c");
      break;
    case verbs::Op::CtrlSend: {
      const std::uint32_t error = generate_ctrl_event(p.pid, s.number, s.group);
      emit(t, "ctrl-sent", {{"type", s.number}, {"group", s.group}, {"ok", error == 0}, {"error", error}});
      break;
    }
    case verbs::Op::SpawnGroup:
    case verbs::Op::SpawnConsole: {
      CreateOptions options;
      options.new_group = s.op == verbs::Op::SpawnGroup;
      options.new_console = s.op == verbs::Op::SpawnConsole;
      spawn_child(t, s.args, options);
      break;
    }
    case verbs::Op::NewConsole:
      // FreeConsole, then AllocConsole: a console of its own; its process group is unchanged.
      p.console = new_console(p.id);
      emit(t, "console", {{"ok", true}, {"error", 0}});
      break;
    case verbs::Op::ConsoleWindow: {
      const std::uint64_t hwnd = p.console && console_alive(p.console) ? consoles_.at(p.console).hwnd : 0;
      emit(t, "console-window", {{"hwnd", hwnd}});
      break;
    }
    default: break;
  }
}

// ------------------------------------------------------------------------------------------
// Windows and message queues

// RegisterWindowMessage: one id per name (compared without case), from 0xC000 up.
std::uint32_t Model::register_message(std::string_view name) {
  std::string key(name);
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto next = kFirstRegisteredMessage + static_cast<std::uint32_t>(registered_.size());
  return registered_.try_emplace(key, next).first->second;
}

void Model::cbt(const ThreadObj& t, int code, std::uint64_t hwnd) {
  if (t.cbt_hook) emit(t, "cbt", {{"code", code}, {"name", std::string(cbt_name(code))}, {"hwnd", hwnd}});
}

// CreateWindow calls the thread's WH_CBT hook (HCBT_CREATEWND) before it returns; showing a
// top-level window activates it and gives it the focus (HCBT_ACTIVATE, HCBT_SETFOCUS).
std::uint64_t Model::create_window(ThreadObj& t, WindowObj w) {
  w.hwnd = next_hwnd_;
  next_hwnd_ += 0x10;
  w.process = t.process;
  w.thread = t.id;
  cbt(t, kHcbtCreateWnd, w.hwnd);
  windows_[w.hwnd] = w;
  if (w.visible) {
    cbt(t, kHcbtActivate, w.hwnd);
    cbt(t, kHcbtSetFocus, w.hwnd);
  }
  log(fmt::format("{} creates window {:#x} ({})", describe(t.id), w.hwnd, kind_text(w)));
  return w.hwnd;
}

// DestroyWindow, called by the window's own thread: the WH_CBT hook first (HCBT_DESTROYWND:
// hooks.no-wh-cbt's control, the call termination does not make), then the thread's queue is
// flushed of the window's messages, then WM_DESTROY reaches the window procedure. The actor's
// procedure counts its `window` windows and posts WM_QUIT (85) when the last one goes.
void Model::destroy_window(ThreadObj& t, std::uint64_t hwnd) {
  auto it = windows_.find(hwnd);
  if (it == windows_.end()) return;
  const WindowObj w = it->second;
  ProcessObj& p = processes_.at(w.process);
  if (!is(Mutant::destroy_window_calls_no_hook)) cbt(t, kHcbtDestroyWnd, hwnd);
  windows_.erase(it);
  std::erase_if(t.queue, [&](const Message& m) {
    if (m.hwnd != hwnd) return false;
    if (m.token) pending_sends_.erase(m.token);
    return true;
  });
  log(fmt::format("{} destroys window {:#x}", describe(t.id), hwnd));
  if (w.role != WindowObj::Role::window) return;
  --p.live_windows;
  emit(t, "window-destroyed", {{"hwnd", hwnd}, {"kind", kind_text(w)}, {"remaining", p.live_windows}});
  if (p.live_windows == 0) {
    emit(t, "quitting", {{"code", gui_verbs::kQuitCode}});
    // PostQuitMessage(85): WM_QUIT carries 85, which the loop returns and WinMain exits with.
    t.quit = is(Mutant::polite_quit_code_zero) ? 0 : gui_verbs::kQuitCode;
  }
}

// hooks.no-wh-cbt: when a process ends, the system destroys its windows; no code of the process
// runs for it, so no hook is called and no message is sent.
void Model::release_windows(ProcessObj& p, std::string_view why) {
  const std::size_t n = std::erase_if(windows_, [&](const auto& entry) {
    return entry.second.role != WindowObj::Role::console && entry.second.process == p.id;
  });
  if (n) log(fmt::format("{}: its {} window(s) destroyed by the system ({})", describe(p.id), n, why));
}

// The target's top-level windows in EnumWindows order: the newest (top of the z-order) first.
std::vector<std::uint64_t> Model::top_level_windows(ObjectId process) const {
  std::vector<std::uint64_t> found;
  for (auto it = windows_.rbegin(); it != windows_.rend(); ++it)
    if (it->second.role != WindowObj::Role::console && it->second.process == process) found.push_back(it->first);
  return found;
}

// PostMessage: queued to the window's thread, handled when that thread next gets a message.
bool Model::post_message(std::uint64_t hwnd, Message m) {
  auto it = windows_.find(hwnd);
  if (it == windows_.end() || it->second.role == WindowObj::Role::console) return false;
  ThreadObj* t = thread_mut(it->second.thread);
  if (!t || t->state != RunState::running) return false;
  t->queue.push_back(m);
  return true;
}

// PostMessage(hwnd, WM_CLOSE) from the harness. A console window's host closes the console.
std::uint32_t Model::post_close(std::uint64_t hwnd) {
  auto it = windows_.find(hwnd);
  if (it == windows_.end()) return kErrorInvalidWindowHandle;
  if (it->second.role == WindowObj::Role::console) {
    const std::uint32_t console = it->second.console;
    if (!console_alive(console)) {
      windows_.erase(it);
      return kErrorInvalidWindowHandle;
    }
    close_console(console);
    return 0;
  }
  log(fmt::format("WM_CLOSE posted to window {:#x}", hwnd));
  return post_message(hwnd, Message{Message::Kind::close, hwnd}) ? 0 : kErrorInvalidWindowHandle;
}

// One step of a GUI actor's main thread: a sent broadcast in progress, a message (in `drain` or
// the message loop), or the next verb. False if it waits for a message.
bool Model::gui_step(ThreadObj& t) {
  ProcessObj& p = processes_.at(t.process);
  if (t.send.active) return send_step(t);
  if (t.pump != ThreadObj::Pump::none) {
    if (!t.queue.empty()) {
      // GetMessage handles messages sent to the thread before it returns a posted one.
      auto it = std::find_if(t.queue.begin(), t.queue.end(), [](const Message& m) { return m.token != 0; });
      if (it == t.queue.end()) it = t.queue.begin();
      const Message m = *it;
      t.queue.erase(it);
      if (m.kind == Message::Kind::drain_marker) {
        if (t.pump == ThreadObj::Pump::drain) {
          emit(t, "drained", {{"dispatched", t.dispatched}});
          t.pump = ThreadObj::Pump::none;
        }
        return true;
      }
      if (t.pump == ThreadObj::Pump::drain && !m.token) ++t.dispatched;
      dispatch(t, m);
      return true;
    }
    // WM_QUIT comes once nothing else is queued; the loop ends and WinMain returns its wParam
    // (exit.code.return-from-main: the C runtime exits with it). `drain` leaves it for the loop.
    if (t.pump == ThreadObj::Pump::loop && t.quit) {
      const std::uint32_t code = *t.quit;
      t.pump = ThreadObj::Pump::none;
      emit(t, "about-to-exit", {{"how", "return"}, {"code", code}});
      push_process_exit(t, code, true);
      return true;
    }
    return false;
  }
  if (t.pc < t.gui_code->size()) {
    gui_verb(t, (*t.gui_code)[t.pc++]);
    return true;
  }
  if (!p.had_window) {
    emit(t, "about-to-exit", {{"how", "return"}, {"code", 0}});
    push_process_exit(t, 0, true);
    return true;
  }
  t.pump = ThreadObj::Pump::loop;
  return true;
}

void Model::gui_verb(ThreadObj& t, const gui_verbs::Step& s) {
  using gui_verbs::Op;
  ProcessObj& p = processes_.at(t.process);
  switch (s.op) {
    case Op::Window: {
      WindowObj w;
      w.role = WindowObj::Role::window;
      w.kind = s.window;
      w.visible = gui_verbs::is_visible(s.window);
      w.title = s.name.empty() ? gui_verbs::default_title(s.window) : s.name;
      const std::uint64_t hwnd = create_window(t, w);
      p.gui_windows.push_back(hwnd);
      ++p.live_windows;
      p.had_window = true;
      emit(t, "window-created", {{"hwnd", hwnd},
                                 {"kind", std::string(gui_verbs::kind_name(s.window))},
                                 {"visible", w.visible},
                                 {"title", w.title}});
      break;
    }
    case Op::ListenPrivate: {
      const std::uint32_t id = register_message(s.name);
      if (!p.listener) {
        WindowObj w;
        w.role = WindowObj::Role::listener;
        w.kind = gui_verbs::WindowKind::HiddenStubborn;
        w.title = kListenerTitle;
        p.listener = create_window(t, w);
        p.had_window = true;
        emit(t, "window-created", {{"hwnd", p.listener}, {"kind", "listener"}, {"visible", false}, {"title", kListenerTitle}});
      }
      p.listening.emplace_back(s.name, id);
      emit(t, "listening", {{"name", s.name}, {"message", id}, {"hwnd", p.listener}});
      break;
    }
    case Op::BroadcastPrivate: {
      const std::uint32_t id = register_message(s.name);
      // graceful.private-message: BroadcastSystemMessage(BSM_APPLICATIONS) reaches every
      // top-level window; BSF_IGNORECURRENTTASK leaves out the calling process's own.
      std::vector<std::uint64_t> targets;
      if (!is(Mutant::broadcast_reaches_nobody))
        for (auto it = windows_.rbegin(); it != windows_.rend(); ++it)
          if (it->second.role != WindowObj::Role::console &&
              (it->second.process != p.id || is(Mutant::broadcast_reaches_sender)))
            targets.push_back(it->first);
      if (is(Mutant::broadcast_reaches_one) && targets.size() > 1) targets.erase(targets.begin() + 1, targets.end());
      log(fmt::format("{} broadcasts message {:#x} ({}) to {} window(s)", describe(t.id), id, s.name, targets.size()));
      if (s.mode == gui_verbs::BroadcastMode::Post) {
        // BSF_POSTMESSAGE: queued to each window's thread; the call waits for nobody.
        for (std::uint64_t hwnd : targets) post_message(hwnd, Message{Message::Kind::registered, hwnd, id});
        emit(t, "broadcast", {{"name", s.name}, {"mode", "post"}, {"flags", kBsfIgnoreCurrentTask | kBsfPostMessage},
                              {"message", id}, {"result", 1}, {"error", 0}, {"recipients", kBsmApplications}});
      } else {
        // Sent: one window after another, each handled (or its thread gone) before the next.
        t.send = {};
        t.send.active = true;
        t.send.name = s.name;
        t.send.message = id;
        t.send.targets = std::move(targets);
      }
      break;
    }
    case Op::Drain:
      t.queue.push_back(Message{Message::Kind::drain_marker});
      t.pump = ThreadObj::Pump::drain;
      t.dispatched = 0;
      break;
    case Op::Ready: {
      nlohmann::json list = nlohmann::json::array();
      for (std::uint64_t hwnd : p.gui_windows) list.push_back(hwnd);
      emit(t, "ready", {{"windows", list}});
      break;
    }
    case Op::Mark: emit(t, "mark", {{"name", s.name}}); break;
    case Op::NoWindow: t.blocked = ThreadObj::Block::forever; break;
    case Op::Exit:
      emit(t, "about-to-exit", {{"how", "exit"}, {"code", s.number}});
      push_process_exit(t, s.number, true);
      break;
    case Op::ExitProcess:
      emit(t, "about-to-exit", {{"how", "exit-process"}, {"code", s.number}});
      push_process_exit(t, s.number, false);
      break;
    case Op::SpawnGui: {
      CreateOptions options;
      options.image = Image::gui;
      spawn_child(t, s.args, options);
      break;
    }
    case Op::CbtHook:
      t.cbt_hook = true;
      emit(t, "cbt-hooked");
      break;
  }
}

// broadcast-private-send: SendMessage to each target in turn. While it waits, the sending thread
// still handles what is sent to it (as SendMessage does).
bool Model::send_step(ThreadObj& t) {
  auto& s = t.send;
  if (s.token) {
    const ThreadObj* r = thread(s.receiver);
    const bool done = !pending_sends_.contains(s.token) || !r || r->state != RunState::running;
    if (!done) {
      auto it = std::find_if(t.queue.begin(), t.queue.end(), [](const Message& m) { return m.token != 0; });
      if (it == t.queue.end()) return false;
      const Message m = *it;
      t.queue.erase(it);
      dispatch(t, m);
      return true;
    }
    pending_sends_.erase(s.token);
    s.token = 0;
  }
  while (s.next < s.targets.size()) {
    const std::uint64_t hwnd = s.targets[s.next++];
    auto w = windows_.find(hwnd);
    if (w == windows_.end()) continue;
    if (w->second.thread == t.id) {
      // A window of the calling thread: its procedure is called directly.
      dispatch(t, Message{Message::Kind::registered, hwnd, s.message});
      return true;
    }
    ThreadObj* r = thread_mut(w->second.thread);
    if (!r || r->state != RunState::running) continue;
    s.token = next_token_++;
    pending_sends_.insert(s.token);
    s.receiver = r->id;
    r->queue.push_back(Message{Message::Kind::registered, hwnd, s.message, s.token});
    return true;
  }
  emit(t, "broadcast", {{"name", s.name}, {"mode", "send"}, {"flags", kBsfIgnoreCurrentTask | kBsfForceIfHung},
                        {"message", s.message}, {"result", 1}, {"error", 0}, {"recipients", kBsmApplications}});
  s = {};
  return true;
}

// A message reaches the actor's window procedure (or its thread).
void Model::dispatch(ThreadObj& t, const Message& m) {
  ProcessObj& p = processes_.at(t.process);
  auto handled = [&] {
    if (m.token) pending_sends_.erase(m.token);
  };
  const WindowObj* w = nullptr;
  if (m.hwnd) {
    auto it = windows_.find(m.hwnd);
    if (it == windows_.end() || it->second.thread != t.id) return handled();
    w = &it->second;
  }
  switch (m.kind) {
    case Message::Kind::close: {
      if (!w) break;
      // taskkill.gui-ignores-close: WM_CLOSE is a request; the window procedure decides. The
      // actor's polite kinds call DestroyWindow, the others return 0 and the window stays.
      const bool closing = w->role == WindowObj::Role::window && gui_verbs::closes_on_wm_close(w->kind);
      const std::uint64_t hwnd = w->hwnd;
      emit(t, "wm-close", {{"hwnd", hwnd}, {"kind", kind_text(*w)}, {"disposition", closing ? "closing" : "ignored"}});
      if (closing || is(Mutant::wm_close_destroys_window)) destroy_window(t, hwnd);
      break;
    }
    case Message::Kind::registered: {
      auto l = std::find_if(p.listening.begin(), p.listening.end(), [&](const auto& e) { return e.second == m.id; });
      if (l == p.listening.end()) break;  // DefWindowProc: nothing
      // graceful.private-message: the receiver of the private message calls ExitProcess. A
      // sender waiting in SendMessage is released when this thread ends.
      emit(t, "private-message", {{"name", l->first}, {"wparam", 0}, {"hwnd", m.hwnd}});
      emit(t, "about-to-exit", {{"how", "exit-process"}, {"code", gui_verbs::kPrivateMessageExitCode}});
      t.micros.clear();
      push_process_exit(t, gui_verbs::kPrivateMessageExitCode, false);
      return;
    }
    case Message::Kind::drain_marker: break;
  }
  handled();
}

// ------------------------------------------------------------------------------------------
// taskkill

// The graceful request taskkill makes without /f. False if it has none to make.
bool Model::taskkill_graceful(ProcessObj& p) {
  // taskkill.gui-wm-close: WM_CLOSE is posted to the top-level windows of the process; taskkill
  // does not wait for it to be handled. (Hidden ones too, as Wine's taskkill does: the suite
  // records what a platform does with a hidden window, it does not assert it.)
  std::vector<std::uint64_t> targets = top_level_windows(p.id);
  if (!targets.empty()) {
    for (std::uint64_t hwnd : targets) post_message(hwnd, Message{Message::Kind::close, hwnd});
    log(fmt::format("taskkill: WM_CLOSE posted to {} window(s) of {}", targets.size(), describe(p.id)));
    return true;
  }
  // taskkill.console-close: the window of a console belongs to the process that created it (its
  // root). WM_CLOSE to it closes the console, which sends CTRL_CLOSE_EVENT to every process
  // attached (close_console). A process attached to a console it did not create owns no window:
  // taskkill has nothing to ask it.
  if (p.console != 0 && console_alive(p.console) && consoles_.at(p.console).root == p.id) {
    if (is(Mutant::taskkill_console_no_close_event)) return true;  // "sent", and nothing happens
    log(fmt::format("taskkill: WM_CLOSE to the window of console {}, which {} created", p.console, describe(p.id)));
    close_console(p.console);
    return true;
  }
  const ProcessObj& h = processes_.at(harness_);
  if (is(Mutant::taskkill_console_close_by_group) && p.image_kind == Image::console && h.console != 0 &&
      p.console == h.console && p.group == h.group) {
    deliver_ctrl(p, verbs::kCtrlCloseEvent);
    return true;
  }
  return false;
}

std::uint32_t Model::taskkill(std::uint32_t pid, bool force, bool tree, std::uint64_t until) {
  const ProcessObj* target = process_by_pid(pid);
  if (!target || target->harness || target->state != RunState::running) return kTaskkillNotFound;
  // taskkill.tree: /t takes the target and every live descendant, found by recorded parent id
  // through live processes (a snapshot: the children of a dead intermediate are not reached).
  std::vector<ObjectId> set{target->id};
  if (tree && !is(Mutant::taskkill_tree_only_root))
    for (std::size_t i = 0; i < set.size(); ++i) {
      const std::uint32_t parent = processes_.at(set[i]).pid;
      for (const auto& [id, q] : processes_)
        if (!q.harness && q.state == RunState::running && q.parent_pid == parent &&
            std::find(set.begin(), set.end(), id) == set.end())
          set.push_back(id);
    }
  auto all_ended = [&] {
    return std::all_of(set.begin(), set.end(), [&](ObjectId id) {
      const auto* q = process(id);
      return !q || q->state != RunState::running;
    });
  };
  auto wait_a_while = [&] {
    advance_until(std::min(until, now_ + kCloseTimeoutMs), all_ended);
  };
  log(fmt::format("taskkill{}{} /pid {}: {} process(es)", force ? " /f" : "", tree ? " /t" : "", pid, set.size()));
  if (force) {
    if (is(Mutant::taskkill_force_sends_wm_close_first)) {
      for (ObjectId id : set)
        if (auto* q = process_mut(id)) taskkill_graceful(*q);
      wait_a_while();
    }
    // taskkill.force: /f calls TerminateProcess(target, 1): nothing of the target runs.
    const std::uint32_t code = is(Mutant::taskkill_force_code_zero) ? 0 : kTaskkillForceCode;
    for (ObjectId id : set) terminate_process(id, code, "TerminateProcess");
    return 0;
  }
  std::uint32_t status = 0;
  for (ObjectId id : set) {
    auto* q = process_mut(id);
    if (!q || q->state != RunState::running || taskkill_graceful(*q)) continue;
    // taskkill.windowless-needs-force: a process that owns no window (no top-level window, no
    // console it created) cannot be asked; taskkill fails and leaves it alone.
    if (is(Mutant::taskkill_graceful_terminates_windowless)) {
      terminate_process(id, kTaskkillForceCode, "TerminateProcess");
      continue;
    }
    log(fmt::format("taskkill: {} can only be ended with /f", describe(id)));
    status = kTaskkillFailed;
  }
  // taskkill.gui-ignores-close: graceful mode never escalates. (Only the mutant does.)
  if (is(Mutant::taskkill_graceful_escalates)) {
    wait_a_while();
    for (ObjectId id : set) terminate_process(id, kTaskkillForceCode, "TerminateProcess");
  }
  return status;
}

}  // namespace termsuite::sim
