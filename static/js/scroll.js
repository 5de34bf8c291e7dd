// Keeps the newest message in view while a reply grows, unless the reader scrolled up;
// then a button jumps back down.
const NEAR_PX = 80

export class Scroller {
  constructor(scroller, jump) {
    this.el = scroller
    this.jump = jump
    this.stick = true
    scroller.addEventListener('scroll', () => {
      this.stick = this.nearEnd()
      jump.hidden = this.stick
    }, { passive: true })
    jump.addEventListener('click', () => {
      this.stick = true
      scroller.scrollTo({ top: scroller.scrollHeight, behavior: 'smooth' })
      jump.hidden = true
    })
  }

  nearEnd() {
    const s = this.el
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_PX
  }

  /** Follow the end if the reader is there (or `force`). */
  toEnd(force = false) {
    if (force) this.stick = true
    if (this.stick) this.el.scrollTop = this.el.scrollHeight
    this.jump.hidden = this.stick || this.nearEnd()
  }
}
