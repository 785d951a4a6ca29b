// The /uppy page: Uppy's Dashboard + @uppy/aws-s3, configured the way any
// Uppy user would configure it for a Companion-style signing endpoint, but
// pointed at Consign's Uppy-compatible routes (/s3/params, /s3/multipart...).
//
// Token: ?token=... if present, else POST /v1/dev/token (demo tokens; 404
// when the server has none). Optional ?profile=... is sent as Uppy metadata.

import Uppy from '@uppy/core'
import Dashboard from '@uppy/dashboard'
import AwsS3 from '@uppy/aws-s3'

const MiB = 1024 * 1024

const params = new URLSearchParams(location.search)

function setState(state) {
  document.body.dataset.state = state
}

function showStatus(message) {
  let el = document.getElementById('status')
  if (!el) {
    el = document.createElement('p')
    el.id = 'status'
    el.setAttribute('role', 'status')
    const uppyEl = document.getElementById('uppy')
    if (uppyEl) uppyEl.before(el)
    else document.body.append(el)
  }
  el.textContent = message
  el.hidden = false
}

function logLine(text, cls) {
  const ul = document.getElementById('log')
  if (!ul) return
  const li = document.createElement('li')
  if (cls) li.className = cls
  li.textContent = text
  ul.append(li)
}

function errorMessage(error) {
  if (error == null) return 'unknown error'
  if (typeof error === 'string') return error
  return error.message || String(error)
}

async function getToken() {
  const fromUrl = params.get('token')
  if (fromUrl) return fromUrl

  let res
  try {
    res = await fetch('/v1/dev/token', {
      method: 'POST',
      headers: { accept: 'application/json' },
      credentials: 'same-origin',
    })
  } catch (err) {
    throw new Error(`Could not reach the server for a token: ${errorMessage(err)}`)
  }
  if (res.status === 404) {
    const err = new Error(
      'This server hands out no demo tokens. Open this page with ?token=<your API token> in the URL to upload.',
    )
    err.noDemoTokens = true
    throw err
  }
  if (!res.ok) {
    let detail = ''
    try {
      const body = await res.json()
      detail = body && (body.error || body.message) ? `: ${body.error || body.message}` : ''
    } catch {
      // not JSON; keep the status line only
    }
    throw new Error(`Could not get a token (HTTP ${res.status}${detail}).`)
  }
  const body = await res.json()
  if (!body || typeof body.token !== 'string' || body.token === '') {
    throw new Error('The server answered without a token.')
  }
  return body.token
}

function start(token) {
  const uppy = new Uppy({ autoProceed: false })

  uppy.use(Dashboard, {
    inline: true,
    target: '#uppy',
    width: '100%',
    proudlyDisplayPoweredByUppy: false,
    showProgressDetails: true,
    note: 'Files go straight to object storage through Consign; files over 100 MiB use multipart uploads.',
  })

  uppy.use(AwsS3, {
    // Companion-compatible signing endpoint: Consign serves /s3/* itself.
    endpoint: location.origin,
    // Sent with every request to the endpoint (not to the presigned URLs).
    headers: { authorization: `Bearer ${token}` },
    // Uppy's default threshold, spelled out; chunk size stays Uppy's default.
    shouldUseMultipart: (file) => file.size > 100 * MiB,
  })

  const profile = params.get('profile')
  if (profile) uppy.setMeta({ profile })

  uppy.on('upload-success', (file, response) => {
    const where = response && response.uploadURL ? ` → ${response.uploadURL}` : ''
    logLine(`${file ? file.name : '?'}: uploaded${where}`, 'ok')
  })

  uppy.on('upload-error', (file, error) => {
    logLine(`${file ? file.name : '?'}: error: ${errorMessage(error)}`, 'error')
  })

  uppy.on('complete', (result) => {
    const successful = (result.successful || []).map((f) => f.name)
    const failed = (result.failed || []).map((f) => ({
      name: f.name,
      error: errorMessage(f.error),
    }))
    logLine(
      `complete: ${successful.length} uploaded, ${failed.length} failed`,
      failed.length ? 'error' : 'ok',
    )
    document.body.dataset.lastResult = JSON.stringify({ successful, failed })
  })

  window.uppy = uppy
  setState('ready')
  return uppy
}

async function main() {
  setState('loading')
  let token
  try {
    token = await getToken()
  } catch (err) {
    setState(err.noDemoTokens ? 'no-token' : 'error')
    showStatus(errorMessage(err))
    return
  }
  try {
    start(token)
  } catch (err) {
    setState('error')
    showStatus(`Could not start Uppy: ${errorMessage(err)}`)
    throw err
  }
}

main()
