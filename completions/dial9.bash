# bash completion for dial9 (installed as
# share/bash-completion/completions/dial9). Works with or without the
# bash-completion package. Keep the option lists in step with
# `dial9 COMMAND --help`: tests/integration/completion_test.cpp checks them.

_dial9_options() {
  case $1 in
    record | attach)
      echo "-h --help -o --output -F --frequency -c --period -e --event --no-kernel --call-graph --duration
            --max-file-size --max-total-size --max-debug-info --rotation-period --compression --on-seal --mmap-pages --no-sched
            --waker-stacks --sampler --no-agent -q --quiet -v --verbose --config"
      if [[ $1 == attach ]]; then echo "--force"; fi ;;
    report) echo "-h --help --tid --thread --pid --from --to --debug-dir -v --verbose -f --format -n --top --no-inline --config" ;;
    export) echo "-h --help --tid --thread --pid --from --to --debug-dir -v --verbose --folded --off-cpu --no-inline --html
                  --flamegraph --inverted --diff --title --pprof --chrome --speedscope --config" ;;
    dump) echo "-h --help -f --format -e --event" ;;
    doctor) echo "-h --help -f --format -q --quiet" ;;
    config)
      case $2 in
        show) echo "-h --help --config -f --format" ;;
        *) echo "-h --help" ;;
      esac ;;
  esac
}

# Options of COMMAND that take a value (the next word is not a program,
# an input or an option).
_dial9_takes_value() {
  local cmd=$1
  [[ $cmd == attach ]] && cmd=record  # the same options
  case $cmd:$2 in
    record:-o | record:--output | record:-F | record:--frequency | record:-c | record:--period | record:-e | \
      record:--event | record:--call-graph | record:--duration | record:--max-file-size | record:--max-total-size | record:--max-debug-info | \
      record:--rotation-period | record:--compression | record:--on-seal | record:--mmap-pages | record:--waker-stacks | \
      record:--sampler) return 0 ;;
    report:--tid | report:--thread | report:--pid | report:--from | report:--to | report:--debug-dir | report:-f | \
      report:--format | report:-n | report:--top) return 0 ;;
    export:--tid | export:--thread | export:--pid | export:--from | export:--to | export:--debug-dir | export:--folded | \
      export:--html | export:--flamegraph | export:--diff | export:--title | export:--pprof | \
      export:--chrome | export:--speedscope) return 0 ;;
    dump:-f | dump:--format | dump:-e | dump:--event | doctor:-f | doctor:--format) return 0 ;;
    *:--config | config:-f | config:--format) return 0 ;;
  esac
  return 1
}

_dial9() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
  local cmd="" i program=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
      record | attach | report | export | dump | doctor | config) cmd=${COMP_WORDS[i]}; break ;;
    esac
  done
  COMPREPLY=()
  if [[ -z $cmd ]]; then
    mapfile -t COMPREPLY < <(compgen -W "record attach report export dump doctor config -h --help -V --version" -- "$cur")
    return
  fi
  # `record`: the first word that is neither an option nor an option's
  # value, or the word after `--`, is the program; from there on the words
  # are the program's.
  if [[ $cmd == record ]]; then
    for ((i = i + 1; i < COMP_CWORD; i++)); do
      local w=${COMP_WORDS[i]}
      if [[ $w == -- ]]; then program=$((i + 1)); break; fi
      if [[ $w == -* ]]; then
        [[ $w != *=* ]] && _dial9_takes_value record "$w" && ((i++))
        continue
      fi
      program=$i
      break
    done
    if ((program > 0 && COMP_CWORD >= program)); then
      if ((COMP_CWORD == program)); then
        mapfile -t COMPREPLY < <(compgen -c -- "$cur" | sort -u)
      else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      fi
      return
    fi
  fi
  # `config`: its own command (show or default) comes first.
  if [[ $cmd == config ]]; then
    local sub=""
    for ((i = i + 1; i < COMP_CWORD; i++)); do
      [[ ${COMP_WORDS[i]} == show || ${COMP_WORDS[i]} == default ]] && sub=${COMP_WORDS[i]}
    done
    if [[ -z $sub ]]; then
      mapfile -t COMPREPLY < <(compgen -W "show default -h --help" -- "$cur")
      return
    fi
    case $prev in
      --config) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
      -f | --format) mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur") ;;
      *) mapfile -t COMPREPLY < <(compgen -W "$(_dial9_options config "$sub")" -- "$cur") ;;
    esac
    return
  fi
  local same=$cmd
  [[ $cmd == attach ]] && same=record  # the same option values
  case $same:$prev in
    *:--config) mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    *:-o | *:--output | *:--debug-dir | *:--diff)
      mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return ;;
    export:--folded | export:--html | export:--flamegraph | export:--pprof | export:--chrome | export:--speedscope)
      mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return ;;
    report:-f | report:--format) mapfile -t COMPREPLY < <(compgen -W "text json markdown" -- "$cur"); return ;;
    dump:-f | dump:--format) mapfile -t COMPREPLY < <(compgen -W "text jsonl" -- "$cur"); return ;;
    doctor:-f | doctor:--format) mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur"); return ;;
    record:--call-graph) mapfile -t COMPREPLY < <(compgen -W "fp auto dwarf" -- "$cur"); return ;;
    record:--compression) mapfile -t COMPREPLY < <(compgen -W "zstd gzip none" -- "$cur"); return ;;
    record:--sampler) mapfile -t COMPREPLY < <(compgen -W "auto perf timer" -- "$cur"); return ;;
    record:-e | record:--event)
      mapfile -t COMPREPLY < <(compgen -W "cycles cpu-clock task-clock instructions branch-misses cache-misses" -- "$cur")
      return ;;
    dump:-e | dump:--event)
      mapfile -t COMPREPLY < <(compgen -W "CpuSampleEvent ThreadNameEvent ThreadStateEvent WakeupEvent WakerStackEvent
                                            SchedStatEvent MappingEvent LostEvent SegmentMetadataEvent SpanEnter SpanExit
                                            PollStartEvent PollEndEvent WorkerParkEvent WorkerUnparkEvent" -- "$cur")
      return ;;
  esac
  if _dial9_takes_value "$cmd" "$prev"; then return; fi  # a number, time, name or command: nothing to offer
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_dial9_options "$cmd")" -- "$cur")
    return
  fi
  case $cmd in
    record) mapfile -t COMPREPLY < <(compgen -c -- "$cur" | sort -u) ;;
    report | export | dump) mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
    doctor | attach) mapfile -t COMPREPLY < <(compgen -W "$(ps -e -o pid= 2>/dev/null)" -- "$cur") ;;
  esac
}
complete -F _dial9 -o filenames dial9
