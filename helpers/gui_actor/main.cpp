// actor-gui: a windows-subsystem program whose top-level windows are chosen by argv.
//
//   actor-gui [--report H] VERB...      e.g.  window polite window stubborn ready
//
// The whole argv is parsed first (termsuite/gui_verbs.hpp; a usage error is found before any
// action), then the main thread runs the verbs left to right, then the message loop runs (when a
// window or a listener exists) until WM_QUIT, whose wParam WinMain returns. Every window belongs
// to the main thread. Verbs and events: docs/actors.md, "GUI actor".
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <windows.h>

#include <stdlib.h>  // __argc, __argv

#include <termsuite/gui_verbs.hpp>
#include <termsuite/actor_support.hpp>
#include <termsuite/report_writer.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

namespace report = termsuite::report;
namespace actor = termsuite::actor;
using json = nlohmann::ordered_json;
using namespace termsuite::gui_verbs;

constexpr DWORD kLoopFailedExitCode = 0xBADB;  // GetMessage failed
constexpr UINT kDrainMarker = WM_APP + 0x2a;   // posted to the thread by `drain`
constexpr wchar_t kClassName[] = L"termsuite.actor-gui";

// ---------------------------------------------------------------------------------------------
// State. Touched by the main thread only (every window belongs to it).

enum class Role { Window, Listener };
struct WindowState {  // per window, in GWLP_USERDATA; never freed
  Role role;
  WindowKind kind;
};

struct Listening {
  std::string name;
  UINT message;
};

HINSTANCE g_instance = nullptr;
std::vector<HWND> g_windows;         // made by `window`, in order
int g_live_windows = 0;              // `window` windows not yet destroyed
HWND g_listener = nullptr;           // the hidden listener, once `listen-private` ran
std::vector<Listening> g_listening;  // the registered private messages listened for

std::uint64_t hwnd_value(HWND h) { return reinterpret_cast<std::uintptr_t>(h); }




void about_to_exit(const char* how, DWORD code) {
  report::emit("about-to-exit", {{"how", how}, {"code", code}});
}

// ---------------------------------------------------------------------------------------------
// Windows.

// A registered private message arrived (to a window, or to the thread): report it and leave.
[[noreturn]] void private_message(const Listening& listening, HWND hwnd, WPARAM wparam) {
  report::emit("private-message", {{"name", listening.name},
                                   {"wparam", static_cast<std::uint64_t>(wparam)},
                                   {"hwnd", hwnd_value(hwnd)}});
  about_to_exit("exit-process", kPrivateMessageExitCode);
  ExitProcess(kPrivateMessageExitCode);
}

const Listening* listened(UINT message) {
  if (message < 0xC000) return nullptr;  // RegisterWindowMessage's range is 0xC000..0xFFFF
  for (const Listening& l : g_listening) {
    if (l.message == message) return &l;
  }
  return nullptr;
}

std::string kind_of(const WindowState& state) {
  return state.role == Role::Listener ? "listener" : std::string(kind_name(state.kind));
}

LRESULT CALLBACK window_proc(HWND hwnd, UINT message, WPARAM wparam, LPARAM lparam) {
  if (message == WM_NCCREATE) {
    auto* create = reinterpret_cast<CREATESTRUCTW*>(lparam);
    SetWindowLongPtrW(hwnd, GWLP_USERDATA, reinterpret_cast<LONG_PTR>(create->lpCreateParams));
  }
  if (const Listening* l = listened(message)) private_message(*l, hwnd, wparam);

  const auto* state = reinterpret_cast<const WindowState*>(GetWindowLongPtrW(hwnd, GWLP_USERDATA));
  if (state == nullptr) return DefWindowProcW(hwnd, message, wparam, lparam);
  switch (message) {
    case WM_CLOSE: {
      const bool closing = state->role == Role::Window && closes_on_wm_close(state->kind);
      report::emit("wm-close", {{"hwnd", hwnd_value(hwnd)},
                                {"kind", kind_of(*state)},
                                {"disposition", closing ? "closing" : "ignored"}});
      if (closing) DestroyWindow(hwnd);
      return 0;  // never DefWindowProc: it would destroy the window
    }
    case WM_DESTROY:
      if (state->role == Role::Window) {
        --g_live_windows;
        report::emit("window-destroyed",
                     {{"hwnd", hwnd_value(hwnd)}, {"kind", kind_of(*state)}, {"remaining", g_live_windows}});
        if (g_live_windows == 0) {
          report::emit("quitting", {{"code", kQuitCode}});
          PostQuitMessage(static_cast<int>(kQuitCode));
        }
      }
      return 0;
    default:
      return DefWindowProcW(hwnd, message, wparam, lparam);
  }
}

bool register_class() {
  WNDCLASSEXW wc{};
  wc.cbSize = sizeof wc;
  wc.lpfnWndProc = window_proc;
  wc.hInstance = g_instance;
  wc.hCursor = LoadCursorW(nullptr, reinterpret_cast<LPCWSTR>(IDC_ARROW));
  wc.hbrBackground = reinterpret_cast<HBRUSH>(COLOR_WINDOW + 1);
  wc.lpszClassName = kClassName;
  if (RegisterClassExW(&wc) != 0) return true;
  report::emit("error", {{"what", "RegisterClassEx"}, {"error", GetLastError()}});
  return false;
}

// A top-level window (no owner, no parent), never WS_VISIBLE at creation; shown afterwards for
// the visible kinds. Returns nullptr (after an `error` record) if it cannot be created.
HWND create_window(WindowState* state, const std::string& title) {
  static const bool registered = register_class();
  if (!registered) return nullptr;
  HWND hwnd = CreateWindowExW(0, kClassName, actor::widen(title).c_str(), WS_OVERLAPPEDWINDOW, CW_USEDEFAULT,
                              CW_USEDEFAULT, 320, 200, nullptr, nullptr, g_instance, state);
  if (hwnd == nullptr) report::emit("error", {{"what", "CreateWindowEx"}, {"error", GetLastError()}});
  return hwnd;
}

void window(WindowKind kind, const std::string& given_title) {
  const std::string title = given_title.empty() ? default_title(kind) : given_title;
  HWND hwnd = create_window(new WindowState{Role::Window, kind}, title);
  if (hwnd == nullptr) return;
  g_windows.push_back(hwnd);
  ++g_live_windows;
  if (is_visible(kind)) {
    ShowWindow(hwnd, SW_SHOWNORMAL);
    UpdateWindow(hwnd);
  }
  report::emit("window-created", {{"hwnd", hwnd_value(hwnd)},
                                  {"kind", std::string(kind_name(kind))},
                                  {"visible", IsWindowVisible(hwnd) != FALSE},
                                  {"title", title}});
}

// listen-private: one hidden top-level listener window for every name (broadcasts reach
// top-level windows only, so not a message-only window); every window of the actor reacts too.
void listen_private(const std::string& name) {
  const UINT message = RegisterWindowMessageW(actor::widen(name).c_str());
  if (message == 0) {
    report::emit("error", {{"what", "RegisterWindowMessage"}, {"error", GetLastError()}, {"name", name}});
    return;
  }
  if (g_listener == nullptr) {
    g_listener = create_window(new WindowState{Role::Listener, WindowKind::HiddenStubborn},
                               "termsuite actor-gui listener");
    if (g_listener == nullptr) return;
    report::emit("window-created", {{"hwnd", hwnd_value(g_listener)},
                                    {"kind", "listener"},
                                    {"visible", IsWindowVisible(g_listener) != FALSE},
                                    {"title", "termsuite actor-gui listener"}});
  }
  g_listening.push_back({name, message});
  report::emit("listening", {{"name", name}, {"message", message}, {"hwnd", hwnd_value(g_listener)}});
}

// broadcast-private(-send): to every top-level window of the desktop (BSM_APPLICATIONS) but this
// process's own (BSF_IGNORECURRENTTASK). Post: queued, the call does not wait for anyone. Send:
// SendMessageTimeout per window, BSF_FORCEIFHUNG so a hung window does not fail the broadcast.
void broadcast_private(const std::string& name, BroadcastMode mode) {
  const UINT message = RegisterWindowMessageW(actor::widen(name).c_str());
  if (message == 0) {
    report::emit("error", {{"what", "RegisterWindowMessage"}, {"error", GetLastError()}, {"name", name}});
    return;
  }
  const DWORD flags = BSF_IGNORECURRENTTASK | (mode == BroadcastMode::Post ? BSF_POSTMESSAGE : BSF_FORCEIFHUNG);
  DWORD recipients = BSM_APPLICATIONS;
  SetLastError(0);
  const long result = BroadcastSystemMessageW(flags, &recipients, message, 0, 0);
  const DWORD error = GetLastError();
  report::emit("broadcast", {{"name", name},
                             {"mode", std::string(mode_name(mode))},
                             {"flags", flags},
                             {"message", message},
                             {"result", result},
                             {"error", error},
                             {"recipients", recipients}});
}

void dispatch(const MSG& msg) {
  if (msg.hwnd == nullptr) {  // a thread message: only a private one means anything here
    if (const Listening* l = listened(msg.message)) private_message(*l, nullptr, msg.wParam);
    return;
  }
  TranslateMessage(&msg);
  DispatchMessageW(&msg);
}

// drain: posts a marker to this thread and dispatches every message until it comes back, so
// whatever was posted to this thread before (a broadcast that reached it) has been handled.
void drain() {
  MSG msg;
  PeekMessageW(&msg, nullptr, WM_USER, WM_USER, PM_NOREMOVE);  // makes sure the thread has a queue
  if (!PostThreadMessageW(GetCurrentThreadId(), kDrainMarker, 0, 0)) {
    report::emit("error", {{"what", "PostThreadMessage"}, {"error", GetLastError()}});
    return;
  }
  int dispatched = 0;
  for (;;) {
    const BOOL got = GetMessageW(&msg, nullptr, 0, 0);
    if (got == -1) {
      report::emit("error", {{"what", "GetMessage"}, {"error", GetLastError()}});
      return;
    }
    if (got == 0) {  // WM_QUIT: leave it for the message loop
      PostQuitMessage(static_cast<int>(msg.wParam));
      break;
    }
    if (msg.hwnd == nullptr && msg.message == kDrainMarker) break;
    ++dispatched;
    dispatch(msg);
  }
  report::emit("drained", {{"dispatched", dispatched}});
}

void ready() {
  json windows = json::array();
  for (HWND h : g_windows) windows.push_back(hwnd_value(h));
  report::emit("ready", {{"windows", windows}});
}

[[noreturn]] void no_window() {
  HANDLE never = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  const DWORD result = never ? WaitForSingleObject(never, INFINITE) : WAIT_FAILED;
  report::emit("error", {{"what", "no-window wait returned"}, {"result", result}, {"error", GetLastError()}});
  ExitProcess(kLoopFailedExitCode);
}

// ---------------------------------------------------------------------------------------------
// cbt-hook: a WH_CBT hook on the main thread (the thread of every window), so a test can see which
// CBT notifications a way of ending the actor produces ("Terminating a Process": termination produces none).

HHOOK g_cbt_hook = nullptr;

const char* cbt_name(int code) {
  switch (code) {
    case HCBT_CREATEWND: return "create-window";
    case HCBT_DESTROYWND: return "destroy-window";
    case HCBT_ACTIVATE: return "activate";
    case HCBT_MINMAX: return "min-max";
    case HCBT_MOVESIZE: return "move-size";
    case HCBT_SETFOCUS: return "set-focus";
    case HCBT_SYSCOMMAND: return "sys-command";
    case HCBT_CLICKSKIPPED: return "click-skipped";
    case HCBT_KEYSKIPPED: return "key-skipped";
    case HCBT_QS: return "qs";
    default: return "other";
  }
}

// The codes whose wParam is a window handle.
bool cbt_names_window(int code) {
  switch (code) {
    case HCBT_CREATEWND:
    case HCBT_DESTROYWND:
    case HCBT_ACTIVATE:
    case HCBT_MINMAX:
    case HCBT_MOVESIZE:
    case HCBT_SETFOCUS:
      return true;
    default:
      return false;
  }
}

// Reports every call, then lets the chain decide (the hook never vetoes anything). A negative
// code is passed on untouched, as the hook contract requires.
LRESULT CALLBACK cbt_proc(int code, WPARAM wparam, LPARAM lparam) {
  if (code >= 0) {
    report::emit("cbt", {{"code", code},
                         {"name", cbt_name(code)},
                         {"hwnd", cbt_names_window(code) ? static_cast<std::uint64_t>(wparam) : std::uint64_t{0}}});
  }
  return CallNextHookEx(g_cbt_hook, code, wparam, lparam);
}

void cbt_hook() {
  HHOOK hook = SetWindowsHookExW(WH_CBT, cbt_proc, nullptr, GetCurrentThreadId());
  if (hook == nullptr) {
    report::emit("error", {{"what", "SetWindowsHookEx"}, {"error", GetLastError()}});
    return;
  }
  g_cbt_hook = hook;  // kept for the life of the process
  report::emit("cbt-hooked");
}

// ---------------------------------------------------------------------------------------------
// spawn-gui (as the console actor's spawn: the channel is the only inherited handle).




// ---------------------------------------------------------------------------------------------
// The interpreter.

void run(const Program& program) {
  for (const Step& step : program) {
    switch (step.op) {
      case Op::Window:
        window(step.window, step.name);
        break;
      case Op::ListenPrivate:
        listen_private(step.name);
        break;
      case Op::BroadcastPrivate:
        broadcast_private(step.name, step.mode);
        break;
      case Op::Drain:
        drain();
        break;
      case Op::Ready:
        ready();
        break;
      case Op::Mark:
        report::emit("mark", {{"name", step.name}});
        break;
      case Op::NoWindow:
        no_window();
      case Op::Exit:
        about_to_exit("exit", step.number);
        std::exit(static_cast<int>(step.number));
      case Op::ExitProcess:
        about_to_exit("exit-process", step.number);
        ExitProcess(step.number);
      case Op::SpawnGui:
        actor::spawn_self(step.args, 0, false);
        break;
      case Op::CbtHook:
        cbt_hook();
        break;
    }
  }
}

// Until WM_QUIT; returns its wParam.
DWORD message_loop() {
  MSG msg;
  for (;;) {
    const BOOL got = GetMessageW(&msg, nullptr, 0, 0);
    if (got == -1) {
      report::emit("error", {{"what", "GetMessage"}, {"error", GetLastError()}});
      return kLoopFailedExitCode;
    }
    if (got == 0) return static_cast<DWORD>(msg.wParam);
    dispatch(msg);
  }
}

// A bad argv (actor::usage_error), with the verbs listed for a person at a terminal.
[[noreturn]] void usage_error(const std::string& message) {
  actor::usage_error("actor-gui", message,
      "usage: actor-gui [--report HANDLE] VERB...\n"
      "verbs: window KIND [TITLE] | listen-private NAME | broadcast-private NAME\n"
      "       broadcast-private-send NAME | drain | ready | mark NAME | no-window\n"
      "       exit N | exit-process N | spawn-gui [ VERB... ] | cbt-hook\n"
      "       (KIND: polite | stubborn | hidden-polite | hidden-stubborn; N: decimal or 0x hex)\n");
}

}  // namespace

int WINAPI WinMain(HINSTANCE instance, HINSTANCE, LPSTR, int) {
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
  int argc = __argc;
  char** argv = __argv;
  report::init(argc, argv);
  g_instance = instance;

  report::emit("start", {{"ppid", actor::parent_pid()}, {"main_tid", GetCurrentThreadId()}});

  Program program;
  try {
    program = parse(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const UsageError& e) {
    usage_error(e.message);
  }
  run(program);
  if (g_windows.empty() && g_listener == nullptr) {
    about_to_exit("return", 0);
    return 0;
  }
  const DWORD code = message_loop();
  about_to_exit("return", code);
  return static_cast<int>(code);
}
