// The app API (dial9/dial9.h) through the real dial9 binary: a program
// built with it, recorded (the agent preloaded), attached to (the agent
// injected), and run without dial9.
#include <catch2/catch.hpp>

#include <signal.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/perf_available.h"
#include "tests/support/proc_state.h"
#include "tests/support/report_json.h"
#include "tests/support/test_support.h"

using namespace dial9::test;
using nlohmann::json;

namespace {

// Every event of a trace directory, as `dial9 dump --format jsonl` gives it.
std::vector<json> dump(const std::string& dir) {
  auto r = run({dial9_binary(), "dump", "--format", "jsonl", dir});
  REQUIRE(r.exit_code == 0);
  std::vector<json> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

std::vector<json> named(const std::vector<json>& events, const std::string& prefix) {
  std::vector<json> out;
  for (const json& e : events) {
    if (e["event"].get<std::string>().rfind(prefix, 0) == 0) out.push_back(e);
  }
  return out;
}

}  // namespace

TEST_CASE("a program's custom events, spans and runtime events are recorded with their schemas and values") {
  TempDir out;
  const std::string dir = out.file("t");
  auto r = run({dial9_binary(), "record", "-o", dir, "--", FIXTURE_APP_API});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::StartsWith("active=1 "));
  CHECK_THAT(r.err, Catch::Contains("app API: "));
  CHECK_THAT(r.err, Catch::Contains(" event(s) from 1 process(es)"));
  const auto events = dump(dir);

  // RequestCompleted, field by field, for each of the 50 requests.
  auto done = named(events, "RequestCompleted");
  REQUIRE(done.size() == 50);
  for (uint64_t i = 0; i < 50; ++i) {
    const json& e = done[i];
    INFO(e.dump());
    CHECK(e["request_id"] == i);
    CHECK(e["status"] == (i % 5 == 0 ? 500 : 200));
    CHECK(e["path"] == "/item/" + std::to_string(i));
    if (i % 2 == 0) {
      CHECK(e["latency_ms"].get<double>() == static_cast<double>(i) / 4);
    } else {
      CHECK(e["latency_ms"].is_null());
    }
    CHECK(e["cached"] == (i % 3 == 0));
  }

  // The C calls' Note events: every text whole, and the two calls that broke
  // the rules dropped and counted.
  auto notes = named(events, "Note");
  const char* texts[] = {"", "abc", "abcdef", "abcdefghijklmno", "abcdefghijklmnopqrstuvwxyz"};
  REQUIRE(notes.size() == 5);
  for (uint64_t i = 0; i < 5; ++i) {
    CHECK(notes[i]["n"] == i);
    CHECK(notes[i]["text"] == texts[i]);
  }
  CHECK_THAT(r.err, Catch::Contains(", 2 lost in the program"));

  // Spans: "handle" with its path, "inner" inside it; each exits and closes.
  auto handles = named(events, "SpanEnter:app::handle:");
  auto inners = named(events, "SpanEnter:app::inner:");
  REQUIRE(handles.size() == 50);
  REQUIRE(inners.size() == 50);
  std::set<uint64_t> handle_ids;
  for (uint64_t i = 0; i < 50; ++i) {
    CHECK(handles[i]["span_name"] == "handle");
    CHECK(handles[i]["path"] == "/item/" + std::to_string(i));
    CHECK(handles[i]["parent_span_id"].is_null());
    CHECK(handles[i]["worker_id"] == 3);
    handle_ids.insert(handles[i]["span_id"].get<uint64_t>());
    CHECK(inners[i]["parent_span_id"] == handles[i]["span_id"]);
  }
  CHECK(handle_ids.size() == 50);
  CHECK(named(events, "SpanExit:app::").size() == 100);
  CHECK(named(events, "SpanCloseEvent").size() == 100);

  // Runtime events in the Tokio recorder's schemas.
  auto polls = named(events, "PollStartEvent");
  REQUIRE(polls.size() == 50);
  auto spawns = named(events, "TaskSpawnEvent");
  REQUIRE(spawns.size() == 50);
  for (uint64_t i = 0; i < 50; ++i) {
    // The spawn's location (the fixture's spawn_location), which the poll did not repeat.
    const std::string loc = std::string(i % 3 == 2 ? "src/other.cpp" : "app_api.cpp") + ":" +
                            std::to_string(42 + i % 2) + ":" + (i % 4 == 3 ? "9" : "7");
    CHECK(polls[i]["worker_id"] == 3);
    CHECK(polls[i]["spawn_loc"] == loc);
    CHECK(spawns[i]["spawn_loc"] == loc);
  }
  CHECK(polls[1]["local_queue"] == 1);
  CHECK(named(events, "PollEndEvent").size() == 50);
  CHECK(named(events, "TaskTerminateEvent").size() == 50);
  auto wakes = named(events, "WakeEventEvent");
  REQUIRE(wakes.size() == 50);
  CHECK(wakes[0]["woken_task_id"] == 1000);
  CHECK(named(events, "QueueSampleEvent").at(0)["global_queue"] == 5);
  // The worker's start and stop name its thread; it parked 5 times.
  auto starts = named(events, "WorkerStartEvent");
  REQUIRE(starts.size() == 1);
  CHECK(starts[0]["worker_id"] == 3);
  const uint64_t worker_tid = starts[0]["tid"].get<uint64_t>();
  CHECK(worker_tid != 0);
  REQUIRE(named(events, "WorkerStopEvent").size() == 1);
  CHECK(named(events, "WorkerStopEvent")[0]["tid"] == worker_tid);
  auto parks = named(events, "WorkerParkEvent");
  auto unparks = named(events, "WorkerUnparkEvent");
  REQUIRE(parks.size() == 5);
  REQUIRE(unparks.size() == 5);
  for (size_t i = 0; i < parks.size(); ++i) {
    CHECK(parks[i]["tid"] == worker_tid);
    // The thread's CPU time goes on, and the unpark follows its park.
    CHECK(unparks[i]["cpu_time_ns"].get<uint64_t>() >= parks[i]["cpu_time_ns"].get<uint64_t>());
    CHECK(unparks[i]["timestamp_ns"].get<uint64_t>() >= parks[i]["timestamp_ns"].get<uint64_t>() + 1'000'000);
  }
  CHECK(parks.back()["cpu_time_ns"].get<uint64_t>() > parks.front()["cpu_time_ns"].get<uint64_t>());

  // The report reads them: spans, custom events, the worker.
  auto rep = report_json({dir});
  std::map<std::string, uint64_t> span_counts, custom;
  for (const auto& s : rep["spans"]) span_counts[s["name"]] = s["count"];
  for (const auto& c : rep["custom_events"]) custom[c["name"]] = c["count"];
  CHECK(span_counts["handle"] == 50);
  CHECK(span_counts["inner"] == 50);
  CHECK(custom["RequestCompleted"] == 50);
  REQUIRE(rep["runtime"].is_object());
  CHECK(rep["runtime"]["polls"] == 50);
  REQUIRE(rep["runtime"]["workers"].size() == 1);
  CHECK(rep["runtime"]["workers"][0]["worker_id"] == 3);
  CHECK(rep["runtime"]["workers"][0]["tid"] == worker_tid);
}

TEST_CASE("the agent's own thread is left out of the recording: no samples, no waits") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP("perf events cannot be opened here: " + why);
  TempDir out;
  const std::string dir = out.file("t");
  auto r = run({dial9_binary(), "record", "-o", dir, "--", FIXTURE_APP_API});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto events = dump(dir);
  std::map<uint64_t, uint64_t> agent_named_at;  // tid -> when it took its name
  for (const json& n : named(events, "ThreadNameEvent")) {
    if (n["name"] == "dial9-agent") agent_named_at[n["tid"].get<uint64_t>()] = n["timestamp_ns"].get<uint64_t>();
  }
  // It runs (the program uses the API), and is dial9's, not the program's:
  // from the moment it names itself (its first microseconds, under the
  // program's name, cannot be told apart) nothing of it is recorded.
  REQUIRE(agent_named_at.size() == 1);
  for (const json& e : events) {
    const std::string name = e["event"];
    if (name == "CpuSampleEvent" || name == "ThreadStateEvent" || name == "SchedStatEvent") {
      INFO(e.dump());
      auto it = agent_named_at.find(e["tid"].get<uint64_t>());
      CHECK((it == agent_named_at.end() || e["timestamp_ns"].get<uint64_t>() < it->second));
    }
  }
}

TEST_CASE("a program built with the app API behaves the same without dial9 and records nothing") {
  auto bare = run({FIXTURE_APP_API});
  REQUIRE(bare.exit_code == 0);
  CHECK_THAT(bare.out, Catch::StartsWith("active=0 "));
  TempDir out;
  auto recorded = run({dial9_binary(), "record", "-q", "-o", out.file("t"), "--", FIXTURE_APP_API});
  REQUIRE(recorded.exit_code == 0);
  // The same work, the same result: only the flag differs.
  CHECK(recorded.out.substr(recorded.out.find(' ')) == bare.out.substr(bare.out.find(' ')));
  CHECK_THAT(recorded.out, Catch::StartsWith("active=1 "));
  // --no-agent: the program runs as bare, and the trace holds no API event.
  auto without = run({dial9_binary(), "record", "-q", "--no-agent", "-o", out.file("n"), "--", FIXTURE_APP_API});
  REQUIRE(without.exit_code == 0);
  CHECK(without.out == bare.out);
  CHECK(named(dump(out.file("n")), "RequestCompleted").empty());
  CHECK(named(dump(out.file("n")), "PollStartEvent").empty());
}

TEST_CASE("a program that floods the app API and exits at once: every call is counted, recorded or lost") {
  // The agent's last events and its final counts are sent as the program
  // exits, while dial9 record is still behind on the flood: they wait for
  // room in the socket rather than being dropped. The counts are exact, or
  // a warning says they are not (a machine too slow for even that).
  TempDir out;
  const long n = 2'000'000;
  auto r = run({dial9_binary(), "record", "-o", out.file("t"), "--", FIXTURE_APP_API, "flood", std::to_string(n)});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "emitted " + std::to_string(n) + "\n");
  const auto at = r.err.find("app API: ");
  REQUIRE(at != std::string::npos);
  unsigned long long events = 0, lost = 0;
  unsigned processes = 0;
  REQUIRE(std::sscanf(r.err.c_str() + at, "app API: %llu event(s) from %u process(es), %llu lost", &events, &processes,
                      &lost) == 3);
  if (r.err.find("without their agent's last report") == std::string::npos) {
    CHECK(events + lost == static_cast<unsigned long long>(n));
  } else {
    WARN("the agent's last report did not arrive in time; counts not checked");
  }
  CHECK(named(dump(out.file("t")), "Tick").size() <= events);
  // Its two threads end together: no thread left is not too many threads.
  CHECK_THAT(r.err, !Catch::Contains("too many threads"));
}

TEST_CASE("a program killed after its agent reported: dial9 record says its last 20 ms may be missing") {
  TempDir out;
  auto r = run({dial9_binary(), "record", "-o", out.file("t"), "--", FIXTURE_APP_API, "killed"});
  INFO(r.err);
  CHECK(r.exit_code == 128 + SIGKILL);
  CHECK_THAT(r.err, Catch::Contains("1 process(es) ended without their agent's last report (_exit, exec or a signal)"));
}

TEST_CASE("attach serves the app API of a running program from the attach on, and leaves it unaffected") {
  int out_fd = -1;
  const pid_t pid = spawn({FIXTURE_APP_API, "loop", "3000"}, &out_fd);
  REQUIRE(pid > 0);
  const std::string line = read_line(out_fd);
  REQUIRE(line == "ready");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // ticks ~0..49 go unrecorded
  const auto fds_before = fd_targets(pid);
  TempDir out;
  const std::string dir = out.file("t");
  auto r = run({dial9_binary(), "attach", "--duration", "1s", "-o", dir, std::to_string(pid)});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  // Detached, the program holds the descriptors it had: none of the
  // agent's (its socket, its eventfd, the schedstat files it read for
  // park/unpark) is left behind.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(fd_targets(pid) == fds_before);
  CHECK(named(dump(dir), "WorkerParkEvent").size() >= 30);
  const std::string rest = read_to_end(out_fd);
  ::close(out_fd);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // The program ran to its end, its API quiet again after the detach.
  CHECK_THAT(rest, Catch::Contains("active_at_end=0"));
  auto ticks = named(dump(dir), "Tick");
  REQUIRE(ticks.size() >= 30);
  CHECK(ticks.size() <= 110);
  // Nothing from before the attach: the first tick recorded is a later one,
  // and from there none is missing.
  const uint64_t first = ticks.front()["n"].get<uint64_t>();
  CHECK(first >= 30);
  for (size_t i = 0; i < ticks.size(); ++i) CHECK(ticks[i]["n"].get<uint64_t>() == first + i);
}

TEST_CASE("the C example's events and spans are recorded with their values, and it prints the same without dial9") {
  auto bare = run({EXAMPLE_C_EVENTS});
  REQUIRE(bare.exit_code == 0);
  TempDir out;
  const std::string dir = out.file("t");
  auto r = run({dial9_binary(), "record", "-o", dir, "--", EXAMPLE_C_EVENTS});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == bare.out);
  // Every event arrived: none lost to a full buffer.
  CHECK_THAT(r.err, Catch::Contains("app API: 1800 event(s) from 1 process(es)\n"));
  const auto events = dump(dir);
  auto orders = named(events, "OrderPlaced");
  REQUIRE(orders.size() == 1000);
  // Order 10: quantity 10 % 7 + 1, price 9.99 + 10 % 13 * 0.5, a coupon.
  const json& o = orders[9];
  CHECK(o["order_id"] == 10);
  CHECK(o["quantity"] == 4);
  CHECK(o["price"].get<double>() == Approx(14.99));
  CHECK(o["balance_delta"] == 4);
  CHECK(o["express"] == false);
  CHECK(o["coupon"] == "SPRING");
  CHECK(orders[0]["coupon"].is_null());
  CHECK(orders[2]["balance_delta"] == -4);  // order 3: a multiple of 3, quantity 3 % 7 + 1
  auto batches = named(events, "SpanEnter:app::process_batch:");
  auto steps = named(events, "SpanEnter:app::process_step:");
  REQUIRE(batches.size() == 100);
  REQUIRE(steps.size() == 300);
  CHECK(batches[7]["batch"] == "batch-007");
  CHECK(steps[22]["step"] == "price");
  CHECK(steps[22]["parent_span_id"] == batches[7]["span_id"]);
  auto rep = report_json({dir});
  std::map<std::string, uint64_t> span_counts;
  for (const auto& s : rep["spans"]) span_counts[s["name"]] = s["count"];
  CHECK(span_counts["process_batch"] == 100);
  CHECK(span_counts["process_step"] == 300);
}

// The echo tests load both CPUs for seconds: [serial], so they run with
// nothing beside them (a timing check of another test would see it).
TEST_CASE("the Asio echo server's slow handler shows as long polls with its location and stack, and delays the handlers behind it",
          "[serial]") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP("perf events cannot be opened here: " + why);
  TempDir out;
  const std::string dir = out.file("t");
  int out_fd = -1;
  const pid_t dial9 = spawn({dial9_binary(), "record", "-o", dir, "--", EXAMPLE_ECHO_SERVER, "--port", "0",
                             "--threads", "2", "--slow-every", "50"},
                            &out_fd);
  REQUIRE(dial9 > 0);
  const std::string line = read_line(out_fd);
  REQUIRE(line.rfind("listening on ", 0) == 0);
  const std::string port = line.substr(13);
  auto load = run({EXAMPLE_LOAD_GEN, "--port", port, "--connections", "8", "--duration", "2"});
  INFO(load.out);
  INFO(load.err);
  CHECK(load.exit_code == 0);
  // The server is dial9's child: Ctrl-C as a user would give it.
  const std::string children = read_all("/proc/" + std::to_string(dial9) + "/task/" + std::to_string(dial9) + "/children");
  const pid_t server = std::atoi(children.c_str());
  REQUIRE(server > 0);
  ::kill(server, SIGINT);
  const std::string rest = read_to_end(out_fd);
  ::close(out_fd);
  int status = 0;
  REQUIRE(::waitpid(dial9, &status, 0) == dial9);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(rest, Catch::Contains("served "));

  auto rep = report_json({dir});
  INFO(rep.dump(1).substr(0, 4000));
  REQUIRE(rep["runtime"].is_object());
  const json& rt = rep["runtime"];
  // The two threads running io_context::run are the workers.
  CHECK(rt["workers"].size() == 2);
  CHECK(rt["polls"].get<uint64_t>() > 1000);
  // The 30 ms handler: the longest polls, spawned by the read in
  // echo_server.cpp, with slow_lookup's sleep sampled inside.
  REQUIRE(!rt["long_polls"].empty());
  const json& longest = rt["long_polls"][0];
  CHECK(longest["duration_ns"].get<uint64_t>() > 25'000'000);
  CHECK_THAT(longest["spawn_loc"].get<std::string>(), Catch::Contains("echo_server.cpp:"));
  bool slow_lookup_sampled = false;
  for (const auto& lp : rt["long_polls"]) {
    for (const auto& frame : lp["stack"]) {
      if (frame.get<std::string>().find("slow_lookup") != std::string::npos) slow_lookup_sampled = true;
    }
  }
  CHECK(slow_lookup_sampled);
  std::set<std::string> kinds;
  for (const auto& f : rep["findings"]) kinds.insert(f["kind"].get<std::string>());
  CHECK(kinds.count("long_poll") == 1);
  // Handlers queued behind a slow one waited: the tail of wake-to-poll is
  // of the slow handler's order, far above its median.
  const json& w2p = rt["wake_to_poll"];
  CHECK(w2p["p99_ns"].get<uint64_t>() > 5'000'000);
  CHECK(w2p["p99_ns"].get<uint64_t>() > 10 * w2p["p50_ns"].get<uint64_t>());
}

TEST_CASE("attach to the Asio echo server under load records its handlers from the attach on, and it serves on unharmed",
          "[serial]") {
  if (auto why = perf_unavailable(); !why.empty()) DIAL9_SKIP("perf events cannot be opened here: " + why);
  int out_fd = -1;
  const pid_t server = spawn({EXAMPLE_ECHO_SERVER, "--port", "0", "--threads", "2"}, &out_fd);
  REQUIRE(server > 0);
  const std::string line = read_line(out_fd);
  REQUIRE(line.rfind("listening on ", 0) == 0);
  const std::string port = line.substr(13);
  // Load for 3 s; dial9 attaches after 1 s for 1 s.
  RunResult load;
  std::thread loader([&] { load = run({EXAMPLE_LOAD_GEN, "--port", port, "--connections", "4", "--duration", "3"}); });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  TempDir out;
  const std::string dir = out.file("t");
  const uint64_t before_attach = [] {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
  }();
  auto r = run({dial9_binary(), "attach", "--duration", "1s", "-o", dir, std::to_string(server)});
  loader.join();
  INFO(r.err);
  CHECK(r.exit_code == 0);
  // The load went on through the attach and after it, without an error.
  INFO(load.out << load.err);
  CHECK(load.exit_code == 0);
  ::kill(server, SIGINT);
  const std::string rest = read_to_end(out_fd);
  ::close(out_fd);
  int status = 0;
  REQUIRE(::waitpid(server, &status, 0) == server);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_THAT(rest, Catch::Contains("served "));

  const auto events = dump(dir);
  auto polls = named(events, "PollStartEvent");
  REQUIRE(polls.size() > 100);
  // Nothing from before the attach.
  for (const char* schema : {"PollStartEvent", "TaskSpawnEvent", "WakeEventEvent", "RequestCompleted"}) {
    auto these = named(events, schema);
    INFO(schema);
    REQUIRE(!these.empty());
    CHECK(these.front()["timestamp_ns"].get<uint64_t>() > before_attach);
  }
  // Handlers spawned after the attach carry their location.
  size_t located = 0;
  for (const json& p : polls) located += p["spawn_loc"].get<std::string>().find("echo_server.cpp:") != std::string::npos;
  CHECK(located > polls.size() / 2);
}

TEST_CASE("a program stopped when an attach ends: dial9 attach says its agent's last report did not come") {
  int out_fd = -1;
  const pid_t pid = spawn({FIXTURE_APP_API, "loop", "3000"}, &out_fd);
  REQUIRE(pid > 0);
  REQUIRE(read_line(out_fd) == "ready");
  TempDir out;
  RunResult r;
  std::thread recorder([&] { r = run({dial9_binary(), "attach", "--duration", "4s", "-o", out.file("t"), std::to_string(pid)}); });
  // Stopped after its agent has reported (it does every 20 ms once loaded),
  // before the recording ends: the agent cannot answer the stop.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (read_text_file("/proc/" + std::to_string(pid) + "/maps").find("libdial9-agent") == std::string::npos &&
         std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::kill(pid, SIGSTOP);
  recorder.join();
  ::kill(pid, SIGCONT);
  (void)read_to_end(out_fd);
  ::close(out_fd);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(WIFEXITED(status));
  CHECK_THAT(r.err, Catch::Contains("1 process(es) still running did not send their agent's last report within 1 s"));
  CHECK_THAT(r.err, !Catch::Contains("ended without their agent's last report"));
}
