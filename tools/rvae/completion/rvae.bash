# bash completion for rvae. Installed by `cmake --install` to
# <datadir>/bash-completion/completions/rvae; or source it from ~/.bashrc.
# The flag lists mirror each subcommand's --help (a CLI test checks they agree).

_rvae_flags() {
  case "$1" in
    decode) echo "--model --endpoint --output-type --format --height --width --scaling-factor
                  --shift-factor --no-scaling --name --timeout --attempts --presets --token-file
                  --jobs --verbose --quiet --json --tile --tile-overlap --frames-per-request
                  --output --help --protocol --input-name --output-name --allow-http-token
                  -o -j -v -q -h" ;;
    encode) echo "--model --endpoint --fit --scaling-factor --shift-factor --no-scaling --timeout
                  --attempts --presets --token-file --jobs --verbose --quiet --json --tile
                  --tile-overlap --output --help --protocol --input-name --output-name
                  --allow-http-token -o -j -v -q -h" ;;
    check) echo "--protocol --timeout --token-file --allow-http-token --json --help -h" ;;
    preview) echo "--model --scale --frame --height --width --name --presets --output --help -o -h" ;;
    presets) echo "--presets --json --help -h" ;;
    serve) echo "--host --port --model --role --latency-ms --context --max-side --max-frames --oip-input-datatype --oip-output-datatype --help -h" ;;
    demo) echo "--out --images --tiled-side --help -h" ;;
    bench) echo "--latency-ms --in-flight --requests-per-slot --sequential --help -h" ;;
    tile-bench) echo "--size --latency-ms --runs --rss --endpoint --model --context --help -h" ;;
  esac
}

_rvae() {
  local cur prev command
  cur="${COMP_WORDS[COMP_CWORD]}"
  prev="${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "decode encode preview presets check serve demo bench tile-bench
                             --help --version" -- "$cur"))
    return
  fi
  command="${COMP_WORDS[1]}"
  case "$prev" in
    --model)
      COMPREPLY=($(compgen -W "sd15 sdxl flux hunyuan-video wan2.1 qwen-image" -- "$cur")); return ;;
    --output-type)
      COMPREPLY=($(compgen -W "image tensor uint8 mp4" -- "$cur")); return ;;
    --format)
      COMPREPLY=($(compgen -W "png jpg" -- "$cur")); return ;;
    --fit)
      COMPREPLY=($(compgen -W "crop resize" -- "$cur")); return ;;
    --role)
      COMPREPLY=($(compgen -W "decode encode" -- "$cur")); return ;;
    --tile|--frames-per-request)
      COMPREPLY=($(compgen -W "auto off" -- "$cur")); return ;;
    --protocol)
      COMPREPLY=($(compgen -W "auto hf open-inference" -- "$cur")); return ;;
    -o|--output|--presets|--token-file|--out|--images)
      COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null; return ;;
    --endpoint|--height|--width|--scaling-factor|--shift-factor|--name|--timeout|--attempts|\
    --jobs|-j|--tile-overlap|--input-name|--output-name|--scale|--frame|--host|--port|--latency-ms|--max-side|--max-frames|--in-flight|\
    --requests-per-slot|--sequential|--size|--runs)
      return ;;  # A value the user types.
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(_rvae_flags "$command")" -- "$cur"))
    return
  fi
  case "$command" in
    decode|preview)
      COMPREPLY=($(compgen -f -X '!*.@(safetensors|npy)' -- "$cur") $(compgen -d -- "$cur")) ;;
    encode)
      COMPREPLY=($(compgen -f -X '!*.@(png|jpg|jpeg|PNG|JPG|JPEG)' -- "$cur") \
                 $(compgen -d -- "$cur")) ;;
  esac
  compopt -o filenames 2>/dev/null
}

complete -F _rvae rvae
